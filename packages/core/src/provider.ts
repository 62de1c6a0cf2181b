import type { ChatRequest } from './chat-request.js'
import type { ProviderResponse } from './chat-response.js'
import type { OnAbort } from './next-ready.js'
import type { ProviderStreamEvent } from './stream-event.js'

/**
 * What one attempt hands its provider besides the request: where to send it,
 * with which credentials, and when to give up.
 *
 * Credentials are the target's own (or, for the primary, the call's). When
 * `apiKey` is undefined the provider uses its configured key — but only when
 * `baseURL` is undefined too: a configured key never goes to a base URL the
 * provider was not configured with (DESIGN.md rule 2).
 */
export interface ProviderContext {
  /** Aborted when the caller aborts, the attempt times out or the call's deadline passes. */
  readonly signal: AbortSignal
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  /** When the attempt must be over, in the client clock's ms; `Infinity` for never. */
  readonly deadline: number
  /**
   * Optional, for speed only: the abort of {@link signal}, heard without
   * making an `AbortSignal` (see the core README's fast paths). A provider
   * that only reads `signal` loses nothing but microseconds.
   */
  readonly onAbort?: OnAbort | undefined
}

/** Where a provider sends a call that names no base URL of its own: see {@link Provider.configuredTarget}. */
export interface ConfiguredTarget {
  readonly baseURL: string
  /** The key sent there; undefined when there is none, or when it is fetched per call and not known without waiting. */
  readonly apiKey: string | undefined
}

/**
 * A model vendor's API, adapted. A provider makes exactly one request per
 * call of `complete` or `stream` and never retries on its own: the client
 * owns retries. It throws an {@link UnderstudyError} with the right `kind`
 * (and `status`, `retryAfterMs`) for every failure; anything else it throws
 * counts as kind `unknown`.
 *
 * `request.model` is the model without the provider prefix.
 */
export interface Provider {
  /** The prefix of targets this provider serves: `"openai"` serves `"openai/gpt-4o"`. */
  readonly id: string
  /**
   * True when a request whose last message is the assistant's is answered by
   * continuing that message (Anthropic's prefill, DeepSeek's and Mistral's
   * `prefix`). A stream with `midStream: 'continue'` hands an interrupted
   * answer only to targets whose provider says so.
   * @default false
   */
  readonly assistantPrefix?: boolean
  /**
   * Optional: where this provider sends a call that names no `baseURL` of
   * its own, and the key it sends there. Core reads it once per call and
   * keeps the base URL and a hash of the key (never the key) in a target's
   * health key, so providers of one id that reach different endpoints or
   * use different keys — replicas or applications sharing one Redis — cool
   * apart. Without it (or when it throws or answers something else), the
   * targets of such providers share one health record.
   */
  configuredTarget?(): ConfiguredTarget
  complete(request: ChatRequest, context: ProviderContext): Promise<ProviderResponse>
  /**
   * The attempt's events: `text`, `reasoning` and `tool-call-delta`, then
   * one `finish` last; or a rejection with the attempt's error. The stream
   * ends without `finish` only when the upstream did, and closes its
   * connection on `return()` or when `context` aborts.
   */
  stream(request: ChatRequest, context: ProviderContext): AsyncIterable<ProviderStreamEvent>
}
