import { nextReady, type ProviderStreamEvent, type UnderstudyError } from '@understudy/core'
import type { SseMessage, StreamParser } from './provider-spec.js'
import { type BodyFlow, type BodyListener, flowBody, type HttpResponse } from './send-request.js'
import { createSseDecoder, type SseDecoder } from './sse-decoder.js'

/** What an {@link SseEventStream} asks of the provider that made it. */
export interface SseEventStreamSource {
  /** Sends the request: resolves with the `text/event-stream` answer to read, or rejects. */
  open(): Promise<HttpResponse>
  /** A fresh parser for this stream, made once the answer is there. */
  createParser(): StreamParser
  /** The error the stream rejects with, for whatever failed (sending, reading, parsing). */
  toError(error: unknown): UnderstudyError
}

type Result = IteratorResult<ProviderStreamEvent, void>

const doneResult: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined })

/**
 * The events of one streamed attempt, as `defineProvider`'s `stream()`
 * returns them: the request is sent on the first `next()`, the body is read
 * as it arrives (through {@link flowBody}), decoded and parsed as SSE, and
 * each message goes through the spec's parser into a queue that `next()`
 * answers from. One promise per event — the consumer's — instead of one per
 * layer of three stacked async generators (body, SSE, events).
 *
 * The contract of the generator it replaces, and more:
 *
 * - **Order**: events in the order parsed; an error (transport, SSE, the
 *   parser's in-band error, `end()`'s `incomplete`) after the events parsed
 *   before it; then `done` for good.
 * - **Backpressure**: the body is paused while parsed events wait for the
 *   consumer and resumed when it asks for more, so at most one chunk's worth
 *   is read ahead; the transport holds the rest upstream.
 * - **Leaving** (`return()`) closes the connection at once, even while a read
 *   is pending (a generator would queue `return()` behind that `next()`),
 *   and settles that read as `done`. Before the first `next()` it sends nothing.
 * - A second `next()` before the first settles is answered after it, as an
 *   async generator queues it.
 * - **{@link nextReady}** hands over an event already parsed without a
 *   promise: the client takes a burst (a whole body in one read) that way.
 */
export class SseEventStream implements AsyncIterableIterator<ProviderStreamEvent>, BodyListener {
  readonly #source: SseEventStreamSource
  #started = false
  /** Nothing more will be read: the body ended, the read failed, or the consumer left. */
  #closed = false
  #response: HttpResponse | undefined
  #flow: BodyFlow | undefined
  #parser: StreamParser | undefined
  #decoder: SseDecoder | undefined
  /** Events parsed and not yet taken, from `#head` on. */
  #queue: ProviderStreamEvent[] = []
  #head = 0
  /** The failure to reject with once the queue is empty. */
  #error: UnderstudyError | undefined
  /** The read in flight: its promise and how to settle it. */
  #pending: Promise<Result> | undefined
  #resolve: ((result: Result) => void) | undefined
  #reject: ((error: unknown) => void) | undefined

  constructor(source: SseEventStreamSource) {
    this.#source = source
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<Result> {
    if (this.#resolve !== undefined) {
      const again = (): Promise<Result> => this.next()
      return (this.#pending as Promise<Result>).then(again, again)
    }
    if (this.#head < this.#queue.length) return Promise.resolve(this.#take())
    if (this.#closed) return this.#settle()
    const pending = new Promise<Result>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#pending = pending
    if (!this.#started) this.#start()
    else this.#flow?.resume()
    return pending
  }

  /**
   * {@link nextReady}: the next event when one is parsed and waiting and no
   * read is pending; else `undefined`.
   */
  takeReady(): Result | undefined {
    if (this.#resolve !== undefined || this.#head === this.#queue.length) return undefined
    return this.#take()
  }

  return(): Promise<Result> {
    this.#queue = []
    this.#head = 0
    this.#error = undefined
    if (!this.#closed) {
      this.#closed = true
      this.#release()
    }
    this.#answer(doneResult)
    return Promise.resolve(doneResult)
  }

  /** {@link BodyListener}: one chunk of the body, parsed at once. */
  chunk(bytes: Uint8Array): void {
    if (this.#closed) return
    try {
      ;(this.#decoder as SseDecoder).push(bytes)
    } catch (error) {
      this.#fail(error)
      return
    }
    // The consumer has events to take: read no further until it asks.
    if (this.#head < this.#queue.length) this.#flow?.pause()
  }

  /** {@link BodyListener}: the body ended; the parser's last events, or its error, close the stream. */
  end(): void {
    if (this.#closed) return
    let last: readonly ProviderStreamEvent[]
    try {
      ;(this.#decoder as SseDecoder).end()
      last = (this.#parser as StreamParser).end()
    } catch (error) {
      this.#fail(error)
      return
    }
    for (let i = 0; i < last.length; i++) this.#deliver(last[i] as ProviderStreamEvent)
    // Read to its end: the connection goes back to the pool, nothing to cancel.
    this.#closed = true
    if (this.#head === this.#queue.length) this.#answer(doneResult)
  }

  /** {@link BodyListener}: the body read failed. */
  error(error: UnderstudyError): void {
    this.#fail(error)
  }

  #start(): void {
    this.#started = true
    this.#source.open().then(this.#onOpen, this.#onOpenFailure)
  }

  readonly #onOpen = (response: HttpResponse): void => {
    this.#response = response
    // The consumer left while the request was on its way.
    if (this.#closed) {
      void response.cancel()
      return
    }
    try {
      this.#parser = this.#source.createParser()
    } catch (error) {
      this.#fail(error)
      return
    }
    this.#decoder = createSseDecoder(this.#onMessage)
    this.#flow = flowBody(response, this)
  }

  readonly #onOpenFailure = (error: unknown): void => {
    this.#fail(error)
  }

  /** Runs inside `decoder.push()`: what the parser throws leaves through it, to {@link chunk}. */
  readonly #onMessage = (message: SseMessage): void => {
    const events = (this.#parser as StreamParser).push(message)
    for (let i = 0; i < events.length; i++) this.#deliver(events[i] as ProviderStreamEvent)
  }

  /** Hands `event` to the read in flight when nothing is queued before it; else queues it. */
  #deliver(event: ProviderStreamEvent): void {
    const resolve = this.#resolve
    if (resolve !== undefined && this.#head === this.#queue.length) {
      this.#resolve = undefined
      this.#reject = undefined
      resolve({ value: event, done: false })
    } else {
      this.#queue.push(event)
    }
  }

  #take(): Result {
    const event = this.#queue[this.#head] as ProviderStreamEvent
    this.#head += 1
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0
      this.#head = 0
    }
    return { value: event, done: false }
  }

  /** The answer once the queue is empty and nothing more is read: the error once, then `done`. */
  #settle(): Promise<Result> {
    const error = this.#error
    if (error === undefined) return Promise.resolve(doneResult)
    this.#error = undefined
    return Promise.reject(error)
  }

  #answer(result: Result): void {
    const resolve = this.#resolve
    if (resolve === undefined) return
    this.#resolve = undefined
    this.#reject = undefined
    resolve(result)
  }

  /** Ends the stream with `error`, after the events already queued; closes the connection. */
  #fail(error: unknown): void {
    if (this.#closed) return
    this.#closed = true
    const typed = this.#source.toError(error)
    this.#release()
    const reject = this.#reject
    if (reject !== undefined && this.#head === this.#queue.length) {
      this.#resolve = undefined
      this.#reject = undefined
      reject(typed)
    } else {
      this.#error = typed
    }
  }

  /**
   * Closes the connection of a body not read to its end. While the request
   * is still on its way there is none yet: {@link #onOpen} cancels the
   * response when it comes.
   */
  #release(): void {
    if (this.#flow !== undefined) void this.#flow.cancel()
    else if (this.#response !== undefined) void this.#response.cancel()
  }
}

// Set on the prototype rather than written as a computed method, which
// isolated declarations cannot type.
Object.defineProperty(SseEventStream.prototype, nextReady, {
  value: SseEventStream.prototype.takeReady,
})
