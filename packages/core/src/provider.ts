import type { ChatRequest } from './chat-request.js'
import type { ProviderResponse } from './chat-response.js'
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
   * The abort of {@link signal}, heard without making an `AbortSignal`:
   * calls `listener` once with the reason when the attempt is aborted (at
   * once when it already is) and returns what removes it. The client's
   * contexts have it, and make their `signal` only when it is read (an
   * `AbortSignal` and its listener cost microseconds per attempt); a
   * context made by hand may leave it out, so providers fall back to `signal`.
   * Call it as a method of the context.
   */
  readonly onAbort?: ((listener: (reason: unknown) => void) => () => void) | undefined
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
  complete(request: ChatRequest, context: ProviderContext): Promise<ProviderResponse>
  /**
   * The attempt's events. Its iterator may also offer {@link nextReady} to
   * hand over, without a promise, an event it already holds.
   */
  stream(request: ChatRequest, context: ProviderContext): AsyncIterable<ProviderStreamEvent>
}

/**
 * The optional method of a stream's iterator that answers at once: the next
 * event as an iterator result when one is already parsed and waiting, and
 * `undefined` when the caller must call `next()` (nothing waits, a read is
 * pending, or the stream's end or error is next).
 *
 * Speed only: a body read in one burst holds dozens of parsed events, and
 * taking each through `next()` costs a promise and a microtask turn per
 * layer. The client takes events this way while it can, and calls `next()`
 * otherwise; an iterator without it works the same, one promise per event.
 * `Symbol.for`, so iterators built against another copy of core match.
 *
 * @example
 * class Events implements AsyncIterator<ProviderStreamEvent> {
 *   [nextReady]() { return this.queue.length > 0 ? { done: false, value: this.queue.shift() } : undefined }
 * }
 */
export const nextReady: unique symbol = Symbol.for('understudy.nextReady')

/** An iterator that offers {@link nextReady}. */
export interface ReadyIterator extends AsyncIterator<ProviderStreamEvent> {
  [nextReady](): IteratorResult<ProviderStreamEvent> | undefined
}
