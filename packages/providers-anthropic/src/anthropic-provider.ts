import { ConfigError, type Provider } from '@understudy/core'
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
import { readAnthropicError } from './anthropic-errors.js'
import { buildAnthropicRequest } from './anthropic-request.js'
import { parseAnthropicResponse } from './anthropic-response.js'
import { createAnthropicStreamParser } from './anthropic-stream.js'
import { type AnthropicVersion, anthropicVersions, defaultAnthropicVersion } from './api-version.js'
import { anthropicId } from './thinking-state.js'

/** Anthropic's own API, where `anthropic()` sends requests unless told otherwise. */
const defaultBaseURL = 'https://api.anthropic.com'

/**
 * `max_tokens` of a request that sets no `maxTokens`: the API requires one.
 * 4096 fits every Claude model's output limit and is what the Vercel AI
 * SDK and litellm send by default.
 */
export const defaultAnthropicMaxTokens = 4096

/** Where users set the key of `anthropic()`, as its messages say. */
const keySource: KeySource = { factory: 'anthropic()', env: 'ANTHROPIC_API_KEY' }

const credentialSchema = z
  .string({ message: 'expected a string' })
  .min(1, { message: 'expected a non-empty string' })

/** The options of {@link anthropic}: zod decides, {@link AnthropicProviderOptions} documents. */
const anthropicOptionsSchema = z.strictObject({
  ...providerOptionsShape,
  authToken: credentialSchema.optional(),
  baseURL: httpURLSchema(defaultBaseURL).optional(),
  version: z
    .enum(anthropicVersions as [AnthropicVersion, ...AnthropicVersion[]], {
      message: `expected one of ${anthropicVersions.map((each) => `"${each}"`).join(', ')}`,
    })
    .optional(),
  maxTokens: z
    .number({ message: 'expected a positive whole number' })
    .int({ message: 'expected a positive whole number' })
    .positive({ message: 'expected a positive whole number' })
    .optional(),
})

/** Options of {@link anthropic}; each overrides what the environment says. */
export interface AnthropicProviderOptions {
  /**
   * The API key, sent as `x-api-key` to `baseURL` only. Not together with
   * `authToken` (exactly one credential is sent).
   * @default `ANTHROPIC_API_KEY`, else `ANTHROPIC_AUTH_TOKEN` as an auth
   * token; `anthropic()` throws a `ConfigError` when neither is set (unless
   * `keyPerTarget`), and each call reads them again
   */
  readonly apiKey?: string
  /**
   * An auth token, sent as `Authorization: Bearer …` to `baseURL` only
   * (gateways, OAuth). Not together with `apiKey`. A target's own `apiKey`
   * is always sent as `x-api-key`.
   * @default `ANTHROPIC_AUTH_TOKEN` when `ANTHROPIC_API_KEY` is unset
   */
  readonly authToken?: string
  /**
   * Every target of this provider brings its own `apiKey`: `anthropic()`
   * then does not throw when no credential is found. @default false
   */
  readonly keyPerTarget?: boolean
  /**
   * Where requests go, as the official SDK takes it: the origin
   * (`https://api.anthropic.com`), under which `/v1/messages` is called; a
   * base URL ending in `/v1` is accepted too.
   * @default `ANTHROPIC_BASE_URL` (checked the same way), else `https://api.anthropic.com`
   */
  readonly baseURL?: string
  /**
   * The `anthropic-version` header. Under `2026-10-21` the API rejects
   * `temperature`, `top_p` and `top_k` even at default values: a request
   * setting one fails that attempt before any I/O as `unsupported`, and the
   * chain moves on (a target's `unset: ['temperature']` sends it without).
   * @default '2026-10-21', the current version, as the official SDK sends
   */
  readonly version?: AnthropicVersion
  /**
   * `max_tokens` when a request (or a target's `params`) sets no `maxTokens`:
   * the API requires one. @default 4096
   */
  readonly maxTokens?: number
  /** Headers sent on every request (after `anthropic-version`, so they win). */
  readonly headers?: Readonly<Record<string, string>>
  /** The undici dispatcher for every request. @default undici's global dispatcher */
  readonly dispatcher?: DefineProviderOptions['dispatcher']
  /** Send with this `fetch` instead of undici (runtimes without undici). */
  readonly fetch?: DefineProviderOptions['fetch']
}

/** The configured credential as one call reads it: its value and how it is sent. */
interface Credential {
  readonly value: string
  readonly sort: 'key' | 'token'
}

/**
 * The Anthropic Messages API provider (Claude): targets `"anthropic/<model>"`.
 *
 * Checks its options when called, before any I/O: an unknown option, a
 * value of the wrong type, a base URL that is not an absolute `http:` /
 * `https:` URL, both `apiKey` and `authToken`, or no credential to be
 * found is a `ConfigError` naming it. The configured credential goes only
 * to the configured base URL; a target with its own `baseURL` and no
 * `apiKey` is sent none (DESIGN.md rule 2). Exactly one credential is ever
 * sent: an API key as `x-api-key`, an auth token as `Authorization: Bearer`.
 *
 * Attempts reject with an `UnderstudyError` whose `kind` comes from the
 * error `type` first, then the status: `rate_limit` (waiting as
 * `retry-after`, else the `anthropic-ratelimit-*-reset` headers say),
 * `overloaded` (529, `overloaded_error`), `server`, `auth`, `not_found`,
 * `context_window` (413, "prompt is too long"), `quota` ("credit balance is
 * too low"), `invalid_request`; before any I/O `unsupported` (`seed`,
 * `responseFormat: json`, sampling parameters the version rejects); from
 * the transport `network`, `timeout`, `aborted`; a stream cut before
 * `message_stop` is `incomplete`.
 *
 * @throws ConfigError for an unknown option, a value of the wrong type, a
 * base URL (or `ANTHROPIC_BASE_URL`) that is not an `http:` / `https:` URL,
 * both `apiKey` and `authToken`, or no credential to be found.
 *
 * @example
 * const client = createClient({ providers: [anthropic()] })
 * const res = await client.complete({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })
 */
export function anthropic(options: AnthropicProviderOptions = {}): Provider {
  const checked = checkProviderOptions(anthropicOptionsSchema, options, 'anthropic(options)')
  if (checked.apiKey !== undefined && checked.authToken !== undefined) {
    throw new ConfigError({
      path: 'anthropic(options).authToken',
      message: 'give apiKey or authToken, not both: exactly one credential is sent',
    })
  }
  const baseURL =
    checked.baseURL ?? readEnvironmentURL('ANTHROPIC_BASE_URL', defaultBaseURL) ?? defaultBaseURL
  const version = checked.version ?? defaultAnthropicVersion
  const maxTokens = checked.maxTokens ?? defaultAnthropicMaxTokens
  const { apiKey, authToken } = checked
  // Read per call, as the factory checks it now: a rotated credential is used.
  const credential = (): Credential | undefined => {
    if (apiKey !== undefined) return { value: apiKey, sort: 'key' }
    if (authToken !== undefined) return { value: authToken, sort: 'token' }
    const fromKey = readEnvironment('ANTHROPIC_API_KEY')
    if (fromKey !== undefined) return { value: fromKey, sort: 'key' }
    const fromToken = readEnvironment('ANTHROPIC_AUTH_TOKEN')
    return fromToken === undefined ? undefined : { value: fromToken, sort: 'token' }
  }
  checkProviderKey({
    ...keySource,
    key: credential()?.value,
    keyPerTarget: checked.keyPerTarget,
  })
  const provider = defineProvider(
    {
      id: anthropicId,
      baseURL,
      apiKey: () => credential()?.value,
      configuredKey: () => credential()?.value,
      keySource,
      authHeaders: (key, source) => {
        // A target's own key is an API key; the configured one is whichever sort it was given as.
        const configured = source === 'configured' ? credential() : undefined
        return configured?.sort === 'token' && configured.value === key
          ? { authorization: `Bearer ${key}` }
          : { 'x-api-key': key }
      },
      headers: Object.freeze({ ...checked.headers }),
      buildRequest: (request, { stream, target }) =>
        buildAnthropicRequest(request, { stream, target, version, maxTokens }),
      parseResponse: parseAnthropicResponse,
      createStreamParser: createAnthropicStreamParser,
      readError: readAnthropicError,
    },
    {
      ...(checked.dispatcher !== undefined && { dispatcher: checked.dispatcher }),
      ...(checked.fetch !== undefined && { fetch: checked.fetch }),
    },
  )
  // The Messages API continues a final assistant turn (prefill): a stream
  // interrupted elsewhere can be continued here with `midStream: 'continue'`.
  return Object.freeze({ ...provider, assistantPrefix: true })
}
