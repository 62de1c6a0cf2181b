import type { Provider } from '@understudy/core'
import {
  checkProviderKey,
  checkProviderOptions,
  type DefineProviderOptions,
  defineProvider,
  httpURLSchema,
  type KeySource,
  providerOptionsShape,
  readEnvironment,
  readEnvironmentURL,
} from '@understudy/provider-kit'
import * as z from 'zod'
import { textSchema } from './option-schemas.js'
import { readOpenAIError } from './openai-errors.js'
import { buildOpenAIRequest } from './openai-request.js'
import { parseOpenAIResponse } from './openai-response.js'
import { createOpenAIStreamParser } from './openai-stream.js'

/** OpenAI's own API, where `openai()` sends requests unless told otherwise. */
const defaultBaseURL = 'https://api.openai.com/v1'

/** Where users set the key of `openai()`, as its messages say. */
const keySource: KeySource = { factory: 'openai()', env: 'OPENAI_API_KEY' }

/** The options of {@link openai}: zod decides, {@link OpenAIProviderOptions} documents. */
const openaiOptionsSchema = z.strictObject({
  ...providerOptionsShape,
  baseURL: httpURLSchema(defaultBaseURL).optional(),
  organization: textSchema.optional(),
  project: textSchema.optional(),
})

/** Options of {@link openai}; each overrides what the environment says. */
export interface OpenAIProviderOptions {
  /**
   * The API key, sent as `Authorization: Bearer …` to `baseURL` only. Not empty.
   * @default `OPENAI_API_KEY`: `openai()` throws a `ConfigError` when it is
   * unset (unless `keyPerTarget`), and each call reads it again, so a
   * rotated key is used and one unset later fails that call with kind `auth`
   */
  readonly apiKey?: string
  /**
   * Every target of this provider brings its own `apiKey`: `openai()` then
   * does not throw when neither `apiKey` nor `OPENAI_API_KEY` gives one. A
   * target without a key of its own then fails with kind `auth`, saying how
   * to give one. @default false
   */
  readonly keyPerTarget?: boolean
  /**
   * Where requests go, up to `/v1`: an absolute `http:` or `https:` URL
   * (`localhost:8080/v1` is a `ConfigError`; write `http://localhost:8080/v1`).
   * @default `OPENAI_BASE_URL` (checked the same way), else `https://api.openai.com/v1`
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
 * Checks its options when called, before any I/O: an unknown option
 * (`baseUrl`, `apikey`), a value of the wrong type or a base URL that is
 * not an absolute `http:` / `https:` URL is a `ConfigError` naming it (and
 * the option meant: `did you mean "baseURL"?`), and so is a key that can
 * never be found — no `apiKey`, `OPENAI_API_KEY` unset, and no
 * `keyPerTarget: true` ("set OPENAI_API_KEY or pass apiKey to openai()").
 * The configured key goes only to the configured base URL; a target with
 * its own `baseURL` and no `apiKey` is sent no key (DESIGN.md rule 2).
 * Streams ask for usage (`stream_options.include_usage`).
 *
 * Attempts reject with an `UnderstudyError` whose `kind` comes from the
 * status and OpenAI's error `code`/`type`: `rate_limit`, `quota`
 * (`insufficient_quota`), `auth`, `not_found`, `context_window`,
 * `invalid_request`, `server`, `overloaded`, and from the transport
 * `network`, `timeout`, `aborted`; a stream cut before its `finish_reason`
 * is `incomplete`.
 *
 * @throws ConfigError for an unknown option, a value of the wrong type, a
 * base URL (or `OPENAI_BASE_URL`) that is not an `http:` / `https:` URL, or
 * no key to be found.
 *
 * @example
 * const client = createClient({ providers: [openai()] })
 * const res = await client.complete({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
 */
export function openai(options: OpenAIProviderOptions = {}): Provider {
  // Once per provider, never per call: parsed options are a fresh copy, so
  // the caller's object may change later and this provider does not.
  const checked = checkProviderOptions(openaiOptionsSchema, options, 'openai(options)')
  const baseURL =
    checked.baseURL ?? readEnvironmentURL('OPENAI_BASE_URL', defaultBaseURL) ?? defaultBaseURL
  const configuredKey = checked.apiKey
  const readKey = (): string | undefined => configuredKey ?? readEnvironment('OPENAI_API_KEY')
  checkProviderKey({
    ...keySource,
    key: readKey(),
    keyPerTarget: checked.keyPerTarget,
  })
  const headers: Record<string, string> = {}
  if (checked.organization !== undefined) headers['openai-organization'] = checked.organization
  if (checked.project !== undefined) headers['openai-project'] = checked.project
  Object.assign(headers, checked.headers)
  return defineProvider(
    {
      id: 'openai',
      baseURL,
      // Read per call, as before the factory checked it: a rotated key is used.
      apiKey: readKey,
      configuredKey: readKey,
      keySource,
      authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      headers: Object.freeze(headers),
      buildRequest: (request, { stream }) =>
        buildOpenAIRequest(request, { stream, includeUsage: true }),
      parseResponse: parseOpenAIResponse,
      createStreamParser: createOpenAIStreamParser,
      readError: readOpenAIError,
    },
    {
      ...(checked.dispatcher !== undefined && { dispatcher: checked.dispatcher }),
      ...(checked.fetch !== undefined && { fetch: checked.fetch }),
    },
  )
}
