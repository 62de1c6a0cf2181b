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

/** What the provider knows of a 2xx answer besides its body, as `parseResponse` gets it. */
export interface ResponseInfo {
  /** The HTTP status. */
  readonly status: number
  /** The upstream's request id, from the response headers; `undefined` when none came. */
  readonly requestId: string | undefined
}

/** What a dialect reads from an error body, for the classifier. */
export interface ErrorDetails {
  readonly kind?: ErrorKind
  /** The provider's own error message, to put (redacted) in the error. */
  readonly message?: string
  /** A wait the body asks for (Gemini's `RetryInfo.retryDelay`), in ms. */
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
  /** The credential headers for a key: `{ authorization: 'Bearer …' }`, `{ 'x-api-key': … }`. */
  readonly authHeaders: (apiKey: string) => Readonly<Record<string, string>>
  /** Headers sent on every request of this provider (organization, project, user headers). */
  readonly headers?: Readonly<Record<string, string>>
  /** The request of one attempt; throw kind `unsupported` for what the API cannot express. */
  readonly buildRequest: (
    request: ChatRequest,
    options: { readonly stream: boolean },
  ) => HttpRequestSpec
  /**
   * The response of a 200 JSON body; throw an `UnderstudyError` when the
   * body is not one. A response that already holds `info`'s `status` and
   * `requestId` (a request id of its own wins) is returned as it is;
   * otherwise the provider copies it to add them.
   */
  readonly parseResponse: (body: unknown, info: ResponseInfo) => ProviderResponse
  /** A fresh stream parser for one attempt. */
  readonly createStreamParser: () => StreamParser
  /** What the error body says, beyond its HTTP status: the kind (`insufficient_quota` → `quota`), message, wait. */
  readonly readError: (status: number, body: unknown) => ErrorDetails
}
