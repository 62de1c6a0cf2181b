import type { FakeServer, FakeServerOptions } from './fake-server.js'
import { startFakeServer } from './fake-server.js'
import { geminiDialect } from './gemini-dialect.js'

/**
 * Starts a fake Gemini API server on `127.0.0.1` (a free port), speaking
 * `generateContent` and `streamGenerateContent` under `url` as the recorded
 * real responses do (SSE with `?alt=sse`, a JSON array without). Point `@google/genai` at it with
 * `httpOptions: { baseUrl: server.url }`; the key it sends is in the request
 * log (`x-goog-api-key` header, or the `key` query parameter).
 *
 * @example
 * ```ts
 * const server = await startFakeGemini()
 * onTestFinished(() => server.close())
 * server.script('gemini-2.5-flash', { status: 429, retryAfterMs: 2_000 }, { text: 'OK.' })
 * ```
 */
export function startFakeGemini(options: FakeServerOptions = {}): Promise<FakeServer> {
  return startFakeServer(geminiDialect, options)
}
