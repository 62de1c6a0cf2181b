import type { ChatResponse } from './chat-response.js'
import type { StreamCall } from './stream-call.js'
import type { StreamEvent } from './stream-event.js'

/**
 * What `client.stream()` returns: the events of the winning attempt, and the
 * final response once they end.
 *
 * Iterate it once (`for await`), or await `response` alone, which reads the
 * stream to its end. Leaving the loop early (`break`, `return()`) closes the
 * upstream connection; `response` then rejects with kind `aborted`.
 */
export interface ChatStream extends AsyncIterable<StreamEvent> {
  /**
   * The final response (text, tool calls, usage, finish reason, `attempts`),
   * when the stream has ended; rejects with the same error as the iteration.
   * Awaiting it without iterating reads the stream to its end; taking it
   * without awaiting it reads nothing.
   */
  readonly response: Promise<ChatResponse>
}

/** Makes the stream object of one call. */
export function createChatStream(call: StreamCall): ChatStream {
  return new CallStream(call)
}

class CallStream implements ChatStream {
  readonly #call: StreamCall
  #reader: 'none' | 'iterator' | 'response' = 'none'

  constructor(call: StreamCall) {
    this.#call = call
    call.onAwait = this.#driveSoon
  }

  /**
   * Awaiting `response` reads the stream, unless a loop reads it: the read
   * starts a microtask after the first wait, so `Promise.all([stream.response,
   * loop(stream)])` leaves the events to the loop.
   *
   * A field, not a function written straight into `call.onAwait`: V8 puts a
   * function literal assigned to a property in old space while the code is
   * not yet optimized, and an old closure keeps its whole call alive through
   * every scavenge. That retention taught V8 to allocate every per-stream
   * object in old space, which tripled the GC time of a stream.
   */
  readonly #driveSoon = (): void => {
    queueMicrotask(() => this.#drive())
  }

  get response(): Promise<ChatResponse> {
    return this.#call.response
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    if (this.#reader === 'iterator') throw new TypeError('A stream can be iterated only once')
    if (this.#reader === 'response') {
      throw new TypeError('This stream is already being read to its end by `response`')
    }
    this.#reader = 'iterator'
    return new CallIterator(this.#call)
  }

  async #drive(): Promise<void> {
    if (this.#reader !== 'none') return
    this.#reader = 'response'
    try {
      while ((await this.#call.next()).done !== true) {
        // Only the end matters here: `response` settles with it.
      }
    } catch {
      // `response` rejects with the same error.
    }
  }
}

class CallIterator implements AsyncIterator<StreamEvent> {
  readonly #call: StreamCall

  constructor(call: StreamCall) {
    this.#call = call
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    return this.#call.next()
  }

  return(): Promise<IteratorResult<StreamEvent>> {
    this.#call.stop('The caller stopped reading the stream')
    return Promise.resolve({ done: true, value: undefined })
  }
}
