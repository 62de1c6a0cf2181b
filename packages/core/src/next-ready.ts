import type { ProviderStreamEvent } from './stream-event.js'
import type { ProviderContext } from './provider.js'

// The provider contract's fast paths: optional, for speed only. A provider
// that implements neither works the same; the client uses them when offered.

/**
 * How a {@link ProviderContext} may let its provider hear the attempt's
 * abort without an `AbortSignal`: calls `listener` once with the reason when
 * the attempt is aborted (at once when it already is) and returns what
 * removes it. Call it as a method of the context.
 *
 * Why: an `AbortSignal` and a listener on it cost microseconds per attempt
 * in Node. The client's contexts offer this and make their `signal` only
 * when it is read; a context made by hand may leave it out, so a provider
 * that uses it falls back to `signal`.
 */
export type OnAbort = (listener: (reason: unknown) => void) => () => void

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
