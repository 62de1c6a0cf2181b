import { type FakeServer, type FakeServerOptions, startFakeServer } from './fake-server.js'
import { openaiDialect } from './openai-dialect.js'

/**
 * Starts a fake OpenAI Chat Completions server on `127.0.0.1` (a free port),
 * serving `POST /v1/chat/completions` and the Azure OpenAI paths
 * (`/openai/deployments/{deployment}/chat/completions?api-version=…`,
 * `/openai/v1/chat/completions`) with OpenAI's real bodies, streams and errors.
 * The official `openai` SDK works against it unchanged.
 *
 * @example
 * ```ts
 * const server = await startFakeOpenAI({ respond: { status: 429, retryAfter: '2' } })
 * onTestFinished(() => server.close())
 * const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1` })
 * ```
 */
export function startFakeOpenAI(options?: FakeServerOptions): Promise<FakeServer> {
  return startFakeServer(openaiDialect, options)
}
