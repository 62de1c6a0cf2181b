import type { Provider } from '@understudy/core'
import { type DefineProviderOptions, defineProvider } from '@understudy/provider-kit'
import { readOpenAIError } from './openai-errors.js'
import { buildOpenAIRequest } from './openai-request.js'
import { parseOpenAIResponse } from './openai-response.js'
import { createOpenAIStreamParser } from './openai-stream.js'
import { readEnvironment } from './read-environment.js'

/** OpenAI's own API, where `openai()` sends requests unless told otherwise. */
const defaultBaseURL = 'https://api.openai.com/v1'

/** Options of {@link openai}; each overrides what the environment says. */
export interface OpenAIProviderOptions {
  /**
   * The API key, sent as `Authorization: Bearer …` to `baseURL` only.
   * @default `OPENAI_API_KEY`, read when a call needs it (a missing key is an
   * `auth` error of that target, so the chain falls back)
   */
  readonly apiKey?: string
  /**
   * Where requests go, up to `/v1`.
   * @default `OPENAI_BASE_URL`, else `https://api.openai.com/v1`
   */
  readonly baseURL?: string
  /** Sent as the `OpenAI-Organization` header. */
  readonly organization?: string
  /** Sent as the `OpenAI-Project` header. */
  readonly project?: string
  /** Headers sent on every request (after `organization`/`project`, so they win). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * The undici dispatcher for every request: an `Agent` with your pool
   * settings, a `ProxyAgent`, custom TLS. @default undici's global dispatcher
   */
  readonly dispatcher?: DefineProviderOptions['dispatcher']
  /** Send with this `fetch` instead of undici (runtimes without undici). */
  readonly fetch?: DefineProviderOptions['fetch']
}

/**
 * The OpenAI Chat Completions provider: targets `"openai/<model>"`.
 *
 * Never throws for a missing key: the key (`options.apiKey`, else
 * `OPENAI_API_KEY`) is read when a call needs it. The configured key goes
 * only to the configured base URL; a target with its own `baseURL` and no
 * `apiKey` is sent no key (DESIGN.md rule 2). Streams ask for usage
 * (`stream_options.include_usage`).
 *
 * Attempts reject with an `UnderstudyError` whose `kind` comes from the
 * status and OpenAI's error `code`/`type`: `rate_limit`, `quota`
 * (`insufficient_quota`), `auth`, `not_found`, `context_window`,
 * `invalid_request`, `server`, `overloaded`, and from the transport
 * `network`, `timeout`, `aborted`; a stream cut before its `finish_reason`
 * is `incomplete`.
 *
 * @example
 * const client = createClient({ providers: [openai()] })
 * const res = await client.complete({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
 */
export function openai(options: OpenAIProviderOptions = {}): Provider {
  const headers: Record<string, string> = {}
  if (options.organization !== undefined) headers['openai-organization'] = options.organization
  if (options.project !== undefined) headers['openai-project'] = options.project
  // A copy: the caller's object may change later; this provider must not.
  Object.assign(headers, options.headers)
  const configuredKey = options.apiKey
  return defineProvider(
    {
      id: 'openai',
      baseURL: options.baseURL ?? readEnvironment('OPENAI_BASE_URL') ?? defaultBaseURL,
      apiKey: () => configuredKey ?? readEnvironment('OPENAI_API_KEY'),
      authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      headers: Object.freeze(headers),
      buildRequest: (request, { stream }) =>
        buildOpenAIRequest(request, { stream, includeUsage: true }),
      parseResponse: parseOpenAIResponse,
      createStreamParser: createOpenAIStreamParser,
      readError: readOpenAIError,
    },
    {
      ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
      ...(options.fetch !== undefined && { fetch: options.fetch }),
    },
  )
}
