import type {
  ChatRequest,
  ErrorKind,
  ProviderResponse,
  ProviderStreamEvent,
} from '@understudy/core'
import type { KeySource } from './check-provider-options.js'

/** One Server-Sent Event, as the SSE reader hands it to a stream parser. */
export interface SseMessage {
  /** The `event:` field, when the server sent one. */
  readonly event: string | undefined
  /** The `data:` field (several lines joined with `\n`). */
  readonly data: string
}

/** The HTTP request an adapter builds for one attempt. */
export interface HttpRequestSpec {
  /** The path and query after the base URL: `/chat/completions`, `/models/x:generateContent?alt=sse`. */
  readonly path: string
  /** The JSON body. */
  readonly body: unknown
  /** Headers of the dialect besides credentials (`anthropic-version`…). */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * Where one attempt goes, as `defineProvider` resolved it: the model, the
 * base URL (the target's, else the provider's) and the key it carries.
 * What a dialect needs to route by URL (an API that takes its base URL with
 * or without `/v1`) and to name the origin of state it must only send back
 * there (core's `stateOrigin()`). The key is for that hash only: never in a
 * body, a header of the dialect's own or a message.
 */
export interface AttemptTarget {
  /** The model, without the provider prefix. */
  readonly model: string
  /** The base URL the request goes to, without a trailing `/`. */
  readonly baseURL: string
  /** The key the request carries; `undefined` for none. */
  readonly apiKey: string | undefined
}

/** How `buildRequest` shapes one attempt's request. */
export interface BuildRequestOptions {
  /** Ask for a `text/event-stream` answer. */
  readonly stream: boolean
  /** Where the attempt goes. */
  readonly target: AttemptTarget
}

/** What the provider knows of a 2xx answer besides its body, as `parseResponse` gets it. */
export interface ResponseInfo {
  /** The HTTP status. */
  readonly status: number
  /** The upstream's request id, from the response headers; `undefined` when none came. */
  readonly requestId: string | undefined
  /** Where the attempt went; absent when a response is parsed outside a provider (tests). */
  readonly target?: AttemptTarget
}

/** What an error response carries besides its status and body, as `readError` gets it. */
export interface ErrorContext {
  /** Response headers by lower-case name; a repeated header may be a list. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  /** Now, in epoch ms: where a reset time in a header is measured from. */
  readonly now: number
}

/** What a dialect reads from an error body, for the classifier. */
export interface ErrorDetails {
  readonly kind?: ErrorKind
  /** The provider's own error message, to put (redacted) in the error. */
  readonly message?: string
  /**
   * A wait the body or a vendor's own headers ask for (Gemini's
   * `RetryInfo.retryDelay`, Anthropic's `anthropic-ratelimit-*-reset`), in
   * ms. A standard `retry-after` / `retry-after-ms` header wins over it.
   */
  readonly retryAfterMs?: number
}

/**
 * Turns a stream's SSE messages into stream events. A fresh parser per
 * attempt: it may keep state (tool calls by index, usage so far).
 */
export interface StreamParser {
  /** The events of one SSE message; throws an `UnderstudyError` for an in-band error. */
  push(message: SseMessage): readonly ProviderStreamEvent[]
  /** Called when the body ends: the events still owed, or throws kind `incomplete` when the terminal signal never came. */
  end(): readonly ProviderStreamEvent[]
}

/**
 * Everything an HTTP provider knows of its API. `defineProvider` turns a spec
 * into a `Provider`: it owns the transport, credentials (DESIGN.md rule 2),
 * the one-request-per-attempt rule, error mapping, Retry-After, redaction and
 * SSE reading, so a spec is only the dialect.
 */
export interface ProviderSpec {
  /** The prefix of targets: `"openai"`. */
  readonly id: string
  /** The configured base URL: `https://api.openai.com/v1`. */
  readonly baseURL: string
  /** The configured key, read when a call needs it (so a missing key is an `auth` error of that target). */
  readonly apiKey: () => string | undefined | Promise<string | undefined>
  /**
   * The same configured key, when it is known without waiting (given to the
   * factory, or in the environment): read once per call so that core keeps
   * a hash of it in the target's health key, and providers of one id on
   * different keys cool apart (`Provider.configuredTarget`). Leave it out
   * when `apiKey` fetches the key; the base URL alone then tells providers apart.
   */
  readonly configuredKey?: () => string | undefined
  /**
   * Whether a call without any key is an `auth` error (`true`) or goes out
   * with no credentials (`false`: Ollama, LM Studio, a local vLLM).
   * @default true
   */
  readonly keyRequired?: boolean
  /**
   * Where users set this provider's key (`{ factory: 'openai()', env:
   * 'OPENAI_API_KEY' }`), so the `auth` error of a call that finds none says
   * how to fix it: `no API key: set OPENAI_API_KEY or pass apiKey to
   * openai(), or give the target its own apiKey`. Without it the error says
   * only that no key is configured.
   */
  readonly keySource?: KeySource
  /**
   * The credential headers for a key: `{ authorization: 'Bearer …' }`,
   * `{ 'x-api-key': … }`. `source` says whose key it is: the provider's
   * configured one (`spec.apiKey()`), or a target's own `apiKey` — for an
   * API whose configured credential may be of another sort (Anthropic's
   * auth token, sent as a bearer token where an API key goes in `x-api-key`).
   */
  readonly authHeaders: (
    apiKey: string,
    source: 'configured' | 'target',
  ) => Readonly<Record<string, string>>
  /** Headers sent on every request of this provider (organization, project, user headers). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * The request of one attempt; throw kind `unsupported` for what the API
   * cannot express. Called once the attempt's key is known, so `target`
   * says where it goes.
   */
  readonly buildRequest: (request: ChatRequest, options: BuildRequestOptions) => HttpRequestSpec
  /**
   * The response of a 200 JSON body; throw an `UnderstudyError` when the
   * body is not one. A response that already holds `info`'s `status` and
   * `requestId` (a request id of its own wins) is returned as it is;
   * otherwise the provider copies it to add them.
   */
  readonly parseResponse: (body: unknown, info: ResponseInfo) => ProviderResponse
  /** A fresh stream parser for one attempt, told where the attempt went. */
  readonly createStreamParser: (target: AttemptTarget) => StreamParser
  /**
   * What the error body says, beyond its HTTP status: the kind
   * (`insufficient_quota` → `quota`), message, wait; `response` has the
   * headers, for a wait only a vendor's own headers tell.
   */
  readonly readError: (status: number, body: unknown, response: ErrorContext) => ErrorDetails
}
