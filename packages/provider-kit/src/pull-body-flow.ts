import type { UnderstudyError } from '@understudy/core'
import type { BodyFlow, BodyListener } from './send-request.js'

/** One read: a chunk, or the end (an iterator result, or a stream reader's). */
export type PulledChunk =
  | { readonly done?: false; readonly value: Uint8Array }
  | { readonly done: true; readonly value?: unknown }

/** What a {@link PullBodyFlow} reads: one chunk per `read()`, and how to stop early. */
export interface PulledBody {
  /** The next chunk, or `done`: an async iterator's `next()`, a stream reader's `read()`. */
  read(): Promise<PulledChunk>
  /** Stops reading and closes the connection; settles a pending `read()`. */
  cancel(): Promise<unknown>
  /** A failed read as the typed error the listener hears. */
  typed(error: unknown): UnderstudyError
}

/**
 * A body read by pulling, one `read()` at a time while flowing: a `fetch`
 * body through its reader, or any other response through its `body`
 * iterator. Starts reading at once.
 */
export class PullBodyFlow implements BodyFlow {
  readonly #body: PulledBody
  readonly #listener: BodyListener
  #flowing = true
  #reading = false
  #over = false

  constructor(body: PulledBody, listener: BodyListener) {
    this.#body = body
    this.#listener = listener
    this.#read()
  }

  pause(): void {
    this.#flowing = false
  }

  resume(): void {
    this.#flowing = true
    if (!this.#reading) this.#read()
  }

  cancel(): Promise<void> {
    if (this.#over) return Promise.resolve()
    this.#over = true
    return this.#body.cancel().then(noop, noop)
  }

  #read(): void {
    if (this.#over) return
    this.#reading = true
    this.#body.read().then(this.#onRead, this.#onError)
  }

  readonly #onRead = (read: PulledChunk): void => {
    this.#reading = false
    if (this.#over) return
    if (read.done === true) {
      this.#over = true
      this.#listener.end()
      return
    }
    this.#listener.chunk(read.value)
    if (this.#flowing) this.#read()
  }

  readonly #onError = (error: unknown): void => {
    this.#reading = false
    if (this.#over) return
    this.#over = true
    this.#listener.error(this.#body.typed(error))
  }
}

function noop(): void {}
