import { anthropicDialect } from './anthropic-dialect.js'
import { type FakeServer, type FakeServerOptions, startFakeServer } from './fake-server.js'

/**
 * Starts a fake Anthropic Messages API on `127.0.0.1` (a free port): real
 * HTTP serving `POST /v1/messages` under `url`, JSON or SSE as the request
 * asks, scripted per model, with the API's real error bodies. Point
 * `@anthropic-ai/sdk` at it with `baseURL: server.url`.
 *
 * @example
 * const server = await startFakeAnthropic({ respond: { status: 529 } })
 * onTestFinished(() => server.close())
 * server.script('claude-sonnet-4-5', { text: 'Hi!' })
 */
export function startFakeAnthropic(options?: FakeServerOptions): Promise<FakeServer> {
  return startFakeServer(anthropicDialect, options)
}
