import { type Provider, stateOrigin } from '@understudy/core'
import {
  type AttemptTarget,
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
import type { AnswerOrigin } from './gemini-answer.js'
import { readGeminiError } from './gemini-errors.js'
import { buildGeminiRequest, type GeminiRequestOptions } from './gemini-request.js'
import { parseGeminiResponse } from './gemini-response.js'
import { createGeminiStreamParser } from './gemini-stream.js'

/** The Gemini API, version included, where `google()` sends requests unless told otherwise. */
const defaultBaseURL = 'https://generativelanguage.googleapis.com/v1beta'

/** The provider id: targets are `"google/<model>"`. */
const id = 'google'

/** Where users set the key of `google()`, as its messages say. */
const keySource: KeySource = { factory: 'google()', env: 'GEMINI_API_KEY' }

/** The options of {@link google}: zod decides, {@link GoogleProviderOptions} documents. */
const googleOptionsSchema = z.strictObject({
  ...providerOptionsShape,
  baseURL: httpURLSchema(defaultBaseURL).optional(),
})

/** Options of {@link google}; each overrides what the environment says. */
export interface GoogleProviderOptions {
  /**
   * The API key, sent as the `x-goog-api-key` header to `baseURL` only —
   * never in the URL, so no logged URL can hold it. Not empty.
   * @default `GEMINI_API_KEY`, else `GOOGLE_API_KEY`: `google()` throws a
   * `ConfigError` when both are unset (unless `keyPerTarget`), and each call
   * reads them again, so a rotated key is used and one unset later fails
   * that call with kind `auth`
   */
  readonly apiKey?: string
  /**
   * Every target of this provider brings its own `apiKey`: `google()` then
   * does not throw when no key is configured. A target without a key of its
   * own then fails with kind `auth`, saying how to give one. @default false
   */
  readonly keyPerTarget?: boolean
  /**
   * Where requests go, API version included: an absolute `http:` or
   * `https:` URL. @default `GOOGLE_GEMINI_BASE_URL` (checked the same way),
   * else `https://generativelanguage.googleapis.com/v1beta`
   */
  readonly baseURL?: string
  /** Headers sent on every request. */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * The undici dispatcher for every request: an `Agent` with your pool
   * settings, a `ProxyAgent`, custom TLS. @default undici's global dispatcher
   */
  readonly dispatcher?: DefineProviderOptions['dispatcher']
  /** Send with this `fetch` instead of undici (runtimes without undici). */
  readonly fetch?: DefineProviderOptions['fetch']
}

/** The configured key: `GEMINI_API_KEY`, else `GOOGLE_API_KEY`, as the official SDK reads them. */
function environmentKey(): string | undefined {
  return readEnvironment('GEMINI_API_KEY') ?? readEnvironment('GOOGLE_API_KEY')
}

/**
 * The Google Gemini API provider (`generateContent`,
 * `streamGenerateContent?alt=sse`): targets `"google/<model>"`, such as
 * `"google/gemini-2.5-flash"`.
 *
 * Checks its options when called, before any I/O: an unknown option
 * (`baseUrl`), a value of the wrong type or a base URL that is not an
 * absolute `http:` / `https:` URL is a `ConfigError` naming it, and so is a
 * key that can never be found — no `apiKey`, neither `GEMINI_API_KEY` nor
 * `GOOGLE_API_KEY` set, and no `keyPerTarget: true`. The configured key
 * goes only to the configured base URL; a target with its own `baseURL` and
 * no `apiKey` is sent no key (DESIGN.md rule 2).
 *
 * An answer's thought signatures are kept on `response.message.providerState`
 * and sent back only to the same provider, model, base URL and key: history
 * that moves to another Gemini model or key goes without them, rather than
 * failing with Gemini's 400 "Corrupted thought signature".
 *
 * Attempts reject with an `UnderstudyError` whose `kind` comes from
 * Google's `error.status` and details, then the HTTP status: `rate_limit`
 * or `quota` (429 `RESOURCE_EXHAUSTED`, see the README), `auth`,
 * `not_found`, `context_window`, `invalid_request`, `server`, `overloaded`,
 * `content_policy` (a blocked prompt); `unsupported` before any I/O for what
 * Gemini cannot express; from the transport `network`, `timeout`,
 * `aborted`; a stream cut before its `finishReason` is `incomplete`.
 *
 * @throws ConfigError for an unknown option, a value of the wrong type, a
 * base URL that is not an `http:` / `https:` URL, or no key to be found.
 *
 * @example
 * const client = createClient({ providers: [google()] })
 * const res = await client.complete({ model: 'google/gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
 */
export function google(options: GoogleProviderOptions = {}): Provider {
  // Once per provider, never per call: parsed options are a fresh copy.
  const checked = checkProviderOptions(googleOptionsSchema, options, 'google(options)')
  const baseURL =
    checked.baseURL ??
    readEnvironmentURL('GOOGLE_GEMINI_BASE_URL', defaultBaseURL) ??
    defaultBaseURL
  const configuredKey = checked.apiKey
  const readKey = (): string | undefined => configuredKey ?? environmentKey()
  checkProviderKey({
    ...keySource,
    key: readKey(),
    keyPerTarget: checked.keyPerTarget,
  })
  return defineProvider(
    {
      id,
      baseURL,
      // Read per call: a rotated key is used.
      apiKey: readKey,
      configuredKey: readKey,
      keySource,
      authHeaders: (apiKey) => ({ 'x-goog-api-key': apiKey }),
      headers: Object.freeze({ ...checked.headers }),
      buildRequest: (request, { stream, target }) =>
        buildGeminiRequest(request, new AttemptOrigin(target, stream)),
      parseResponse: (body, info) =>
        parseGeminiResponse(
          body,
          info,
          info.target === undefined ? { provider: id, origin: '' } : new AttemptOrigin(info.target),
        ),
      createStreamParser: (target) => createGeminiStreamParser(new AttemptOrigin(target)),
      readError: readGeminiError,
    },
    {
      ...(checked.dispatcher !== undefined && { dispatcher: checked.dispatcher }),
      ...(checked.fetch !== undefined && { fetch: checked.fetch }),
    },
  )
}

/**
 * The `stateOrigin()` of an attempt, whose thought signatures it may send
 * back, worked out (the key hashed) only when a signature is written or
 * replayed. Most calls carry none, and a call that needs no fallback should
 * cost next to nothing over a direct request: built eagerly, it hashed the
 * key twice per attempt. A class, not a literal with a getter: V8 builds
 * such a literal on a slow path, which cost more per call (Node 24, the
 * benchmark's call row) than the engine's own plan.
 */
class AttemptOrigin implements AnswerOrigin, GeminiRequestOptions {
  readonly provider = id
  readonly stream: boolean
  readonly #target: AttemptTarget
  #origin: string | undefined

  constructor(target: AttemptTarget, stream = false) {
    this.#target = target
    this.stream = stream
  }

  get origin(): string {
    this.#origin ??= stateOrigin({
      provider: id,
      model: this.#target.model,
      baseURL: this.#target.baseURL,
      apiKey: this.#target.apiKey,
    })
    return this.#origin
  }
}
