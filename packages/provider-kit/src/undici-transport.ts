import { UnderstudyError } from '@understudy/core'
import type { Dispatcher } from 'undici'
import type {
  AbortEmitter,
  BodyFlow,
  BodyListener,
  HttpResponse,
  SendRequestOptions,
} from './send-request.js'
import { parseJsonBody, safeLocation, transportError } from './transport-error.js'

type Undici = typeof import('undici')

/**
 * What undici hands a handler to steer its exchange: `abort` in both of its
 * handler APIs; `pause` / `resume` in the current one.
 */
interface Controller {
  abort(reason: Error): void
  pause(): void
  resume(): void
}

/**
 * Bytes kept for a reader that waits (or a body nobody reads yet) before
 * undici is paused; it is resumed once the reader has taken them all.
 *
 * Twice the socket's own window, and not one chunk: a paused undici puts
 * back what it has not parsed, and every resume lets the socket read up to
 * its window (64 KiB) again. A resume that parsed less than that would let
 * the socket's buffer grow by the difference each time — megabytes of a
 * fast stream, copied again at every resume.
 */
const highWaterMark = 128 * 1024

/**
 * The most a flowing reader is handed at once. undici hands over what one
 * socket read brought, megabytes when the sender is fast; a reader that
 * parses a whole chunk before it can pause would hold all of it parsed.
 */
const sliceBytes = 16 * 1024

/**
 * Sends one request through undici's `dispatch` with {@link UndiciExchange}
 * as its handler; resolves with that same object once the headers arrive.
 */
export function sendWithUndici(module: Undici, options: SendRequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'POST'
  const target = splitURL(options.url)
  if (target === undefined) return sendUnsplittable(module, options, method)
  const exchange = new UndiciExchange(module, options, method)
  return exchange.send(options.dispatcher ?? module.getGlobalDispatcher(), target)
}

/**
 * A URL that is not `http:` or `https:` (or not a URL): undici's own
 * `request` refuses it with its own error, as it always has. Never resolves.
 */
async function sendUnsplittable(
  module: Undici,
  options: SendRequestOptions,
  method: string,
): Promise<never> {
  try {
    const init: { dispatcher?: Dispatcher } & Omit<Dispatcher.RequestOptions, 'origin' | 'path'> = {
      method: method as Dispatcher.HttpMethod,
    }
    if (options.dispatcher !== undefined) init.dispatcher = options.dispatcher
    const data = await module.request(options.url, init)
    await data.body.dump()
  } catch (error) {
    throw transportError(error, options, method, 'request')
  }
  throw transportError(new TypeError('not an http URL'), options, method, 'request')
}

/**
 * One request and its response over undici, in one object: the handler
 * undici calls as the exchange goes on, the {@link HttpResponse} the caller
 * reads, and the {@link BodyFlow} of its body.
 *
 * Written by hand rather than through `undici.request`: that wraps the body
 * in a Node `Readable` (a stream, its buffer, an async resource and a
 * listener on the signal per request), which cost about 20 µs of CPU a call
 * on loopback — a fifth of a whole request. Here what one socket read
 * brought goes from undici's parser to whoever reads it on the same tick,
 * and backpressure is undici's own `pause()`: the socket is not read while
 * the reader waits.
 *
 * It speaks both of undici's handler APIs: the current one (`onRequestStart`
 * …, undici 7 and 8) and the older one (`onConnect` …), which undici 6
 * dispatchers and undici 7's `MockAgent` call.
 */
class UndiciExchange implements HttpResponse, BodyFlow {
  status = 0
  headers: Readonly<Record<string, string>> = noHeaders
  readonly #module: Undici
  readonly #options: SendRequestOptions
  readonly #method: string
  #resolve: ((response: HttpResponse) => void) | undefined
  #reject: ((error: UnderstudyError) => void) | undefined

  /** The current API's controller, or {@link #legacyAbort} and {@link #legacyResume}. */
  #controller: Controller | undefined
  #legacyAbort: ((reason: Error) => void) | undefined
  #legacyResume: (() => void) | undefined
  /** Asked of undici: no more chunks until resumed. */
  #upstreamPaused = false
  /** Why the exchange must stop, when it must before undici has handed over its controls. */
  #pendingAbort: Error | undefined

  /** Chunks arrived and not yet handed to a reader. */
  #chunks: Uint8Array[] = []
  #bytes = 0
  #ended = false
  #failure: UnderstudyError | undefined
  /** Read, cancelled or failed: nothing more is heard. */
  #over = false
  #reader: 'none' | 'whole' | 'flow' = 'none'
  #listener: BodyListener | undefined
  #flowing = false
  /** A {@link #pump} is queued. */
  #scheduled = false
  #whole: { resolve(text: string): void; reject(error: UnderstudyError): void } | undefined

  constructor(module: Undici, options: SendRequestOptions, method: string) {
    this.#module = module
    this.#options = options
    this.#method = method
  }

  send(dispatcher: Dispatcher, target: Target): Promise<HttpResponse> {
    const { signal } = this.#options
    if (signal?.aborted === true) {
      return Promise.reject(transportError(signal.reason, this.#options, this.#method, 'request'))
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
      if (signal !== undefined) listen(signal, this.#onAbort)
      const options = this.#options
      try {
        dispatcher.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: this.#method as Dispatcher.HttpMethod,
            headers: (options.headers as Record<string, string> | undefined) ?? null,
            body: options.body ?? null,
          },
          this as unknown as Dispatcher.DispatchHandler,
        )
      } catch (error) {
        // undici's own dispatchers report through onResponseError; another may throw.
        this.#fail(error instanceof Error ? error : new Error(String(error)))
      }
    })
  }

  // --- undici's handler: the current API -----------------------------------

  onRequestStart(controller: Controller, _context: unknown): void {
    this.#controller = controller
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort)
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (statusCode < 200) return
    this.status = statusCode
    this.headers = flattenHeaders(headers)
    const resolve = this.#resolve
    this.#settled()
    resolve?.(this)
  }

  onResponseData(_controller: Controller, chunk: Uint8Array): void {
    this.#take(chunk)
  }

  onResponseEnd(_controller: Controller, _trailers: unknown): void {
    this.#end()
  }

  onResponseError(_controller: Controller | null | undefined, error: Error): void {
    this.#fail(error)
  }

  // --- undici's handler: the older API -------------------------------------

  onConnect(abort: (reason?: Error) => void): void {
    this.#legacyAbort = abort
    if (this.#pendingAbort !== undefined) abort(this.#pendingAbort)
  }

  onHeaders(
    statusCode: number,
    rawHeaders: readonly (Uint8Array | string)[],
    resume: () => void,
  ): boolean {
    this.#legacyResume = resume
    this.onResponseStart(
      legacyController,
      statusCode,
      this.#module.util.parseHeaders(rawHeaders as Buffer[]),
    )
    return !this.#upstreamPaused
  }

  onData(chunk: Uint8Array): boolean {
    this.#take(chunk)
    return !this.#upstreamPaused
  }

  onComplete(): void {
    this.#end()
  }

  onError(error: Error): void {
    this.#fail(error)
  }

  // --- HttpResponse --------------------------------------------------------

  get body(): AsyncIterable<Uint8Array> {
    return iterateBody(this)
  }

  text(): Promise<string> {
    const refused = this.#claim('whole')
    if (refused !== undefined) return Promise.reject(refused)
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#ended) {
      this.#over = true
      return Promise.resolve(this.#decode())
    }
    this.#resumeUpstream()
    return new Promise<string>((resolve, reject) => {
      this.#whole = { resolve, reject }
    })
  }

  json(): Promise<unknown> {
    return this.text().then(parseJsonBody)
  }

  /**
   * Closes the connection if the body has not ended. A read still waiting
   * (`text()`, `json()`, the body loop, a flowing reader) fails with kind
   * `aborted`; a reader that cancelled has stopped listening by then.
   */
  cancel(): Promise<void> {
    if (this.#over) return Promise.resolve()
    this.#over = true
    this.#chunks = []
    this.#bytes = 0
    this.#unlisten()
    if (!this.#ended && this.#failure === undefined) this.#abortUpstream(cancelled())
    if (this.#whole === undefined && this.#listener === undefined) return Promise.resolve()
    const reason = new UnderstudyError({
      kind: 'aborted',
      message: `${this.#method} ${safeLocation(this.#options.url)}: the body was cancelled`,
    })
    this.#whole?.reject(reason)
    this.#listener?.error(reason)
    return Promise.resolve()
  }

  // --- BodyFlow ------------------------------------------------------------

  /**
   * Hands the body to `listener`: what arrived already on the next
   * microtask (so the caller holds the flow first), then each chunk as
   * undici parses it, while not paused.
   */
  flow(listener: BodyListener): BodyFlow {
    const refused = this.#claim('flow')
    if (refused !== undefined) {
      queueMicrotask(() => listener.error(refused))
      return refusedFlow
    }
    this.#listener = listener
    this.#flowing = true
    this.#schedule()
    return this
  }

  pause(): void {
    this.#flowing = false
  }

  resume(): void {
    if (this.#flowing || this.#listener === undefined) return
    this.#flowing = true
    this.#pump()
  }

  // --- inside --------------------------------------------------------------

  /** Makes `reader` the body's one reader; the error when it has one already. */
  #claim(reader: 'whole' | 'flow'): UnderstudyError | undefined {
    if (this.#reader === 'none' && !this.#over) {
      this.#reader = reader
      return undefined
    }
    return new UnderstudyError({
      kind: 'unknown',
      message: `${this.#method} ${safeLocation(this.#options.url)}: the body was read or cancelled already`,
    })
  }

  #take(chunk: Uint8Array): void {
    if (this.#over) return
    this.#chunks.push(chunk)
    this.#bytes += chunk.byteLength
    if (this.#reader === 'flow' && this.#flowing) this.#schedule()
    // A reader that waits, or none yet, has let a window's worth pile up:
    // the socket is not read until it catches up.
    if (this.#reader !== 'whole' && this.#bytes > highWaterMark) this.#pauseUpstream()
  }

  #end(): void {
    if (this.#over) return
    this.#ended = true
    this.#unlisten()
    if (this.#reader === 'whole') {
      this.#over = true
      this.#whole?.resolve(this.#decode())
    } else if (this.#reader === 'flow' && this.#flowing) {
      this.#schedule()
    }
  }

  #fail(error: Error): void {
    if (this.#resolve !== undefined) {
      // Before the headers: the request itself failed.
      const reject = this.#reject
      this.#settled()
      this.#unlisten()
      this.#over = true
      reject?.(transportError(error, this.#options, this.#method, 'request'))
      return
    }
    if (this.#over || this.#ended) return
    this.#unlisten()
    const failure = transportError(error, this.#options, this.#method, 'body')
    this.#failure = failure
    if (this.#reader === 'whole') {
      this.#over = true
      this.#whole?.reject(failure)
    } else if (this.#reader === 'flow' && this.#flowing) {
      this.#schedule()
    }
  }

  /**
   * Pumps on the next microtask, once however many chunks arrive before it.
   * undici hands over each chunk of a chunked body on its own (for an SSE
   * stream, each event); handing the reader what one socket read brought in
   * one piece costs it one decode where it would pay one per event.
   */
  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    this.#pump()
  }

  /** Hands what waits to the flowing reader, then its end or failure; resumes the socket once caught up. */
  #pump(): void {
    const listener = this.#listener
    if (listener === undefined) return
    while (this.#flowing && !this.#over && this.#chunks.length > 0) this.#deliver(this.#next())
    if (this.#over) return
    if (this.#flowing && this.#chunks.length === 0) {
      if (this.#failure !== undefined) {
        this.#over = true
        listener.error(this.#failure)
        return
      }
      if (this.#ended) {
        this.#over = true
        listener.end()
        return
      }
    }
    if (this.#chunks.length === 0) this.#resumeUpstream()
  }

  /**
   * The next piece for the reader, taken off the waiting chunks: as many
   * whole chunks as fit in {@link sliceBytes}, joined, or the first
   * {@link sliceBytes} of a bigger one.
   */
  #next(): Uint8Array {
    const chunks = this.#chunks
    const first = chunks[0] as Uint8Array
    let piece = first
    if (first.byteLength > sliceBytes) {
      piece = first.subarray(0, sliceBytes)
      chunks[0] = first.subarray(sliceBytes)
    } else {
      let count = 1
      let total = first.byteLength
      for (; count < chunks.length; count++) {
        const size = (chunks[count] as Uint8Array).byteLength
        if (total + size > sliceBytes) break
        total += size
      }
      piece = count === 1 ? first : Buffer.concat(chunks.slice(0, count), total)
      chunks.splice(0, count)
    }
    this.#bytes -= piece.byteLength
    return piece
  }

  #deliver(piece: Uint8Array): void {
    try {
      this.#listener?.chunk(piece)
    } catch (error) {
      // A reader that throws fails the body, which is closed; nothing
      // escapes as an uncaught exception.
      const listener = this.#listener
      this.#listener = undefined
      void this.cancel()
      try {
        listener?.error(
          new UnderstudyError({ kind: 'unknown', message: 'the body reader failed', cause: error }),
        )
      } catch {
        // It failed twice; there is nobody left to tell.
      }
    }
  }

  /** The whole body as UTF-8, without a byte order mark (as `Response.text()` reads it). */
  #decode(): string {
    const chunks = this.#chunks
    this.#chunks = []
    this.#bytes = 0
    const bytes =
      chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks as Uint8Array[])
    const buffer = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const bom = buffer.length >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf
    return buffer.toString('utf8', bom ? 3 : 0)
  }

  #pauseUpstream(): void {
    if (this.#upstreamPaused) return
    this.#upstreamPaused = true
    // The older API pauses by the `false` that onData returns.
    this.#controller?.pause()
  }

  #resumeUpstream(): void {
    if (!this.#upstreamPaused) return
    this.#upstreamPaused = false
    if (this.#controller !== undefined) this.#controller.resume()
    else this.#legacyResume?.()
  }

  #abortUpstream(reason: Error): void {
    if (this.#controller !== undefined) this.#controller.abort(reason)
    else if (this.#legacyAbort !== undefined) this.#legacyAbort(reason)
    else this.#pendingAbort = reason
  }

  /** The request promise is settled: neither callback is kept. */
  #settled(): void {
    this.#resolve = undefined
    this.#reject = undefined
  }

  readonly #onAbort = (): void => {
    const { signal } = this.#options
    const reason = signal?.reason
    if (this.#resolve !== undefined) {
      // The caller hears at once; undici closes the connection when it can.
      this.#fail(reason instanceof Error ? reason : abortedByCaller())
    }
    this.#abortUpstream(reason instanceof Error ? reason : abortedByCaller())
  }

  #unlisten(): void {
    const { signal } = this.#options
    if (signal !== undefined) unlisten(signal, this.#onAbort)
  }
}

/** The older API's stand-in for a controller, never used to steer (see {@link UndiciExchange}). */
const legacyController: Controller = { abort: noop, pause: noop, resume: noop }

const noHeaders: Readonly<Record<string, string>> = Object.freeze({})

/** The flow of a reader refused because the body has one: it steers nothing. */
const refusedFlow: BodyFlow = Object.freeze({
  pause: noop,
  resume: noop,
  cancel: () => Promise.resolve(),
})

function cancelled(): Error {
  return new Error('the body was cancelled by its reader')
}

function abortedByCaller(): Error {
  return new Error('aborted by the caller')
}

function listen(signal: AbortSignal | AbortEmitter, listener: () => void): void {
  if ('addEventListener' in signal) signal.addEventListener('abort', listener, { once: true })
  else signal.once('abort', listener)
}

function unlisten(signal: AbortSignal | AbortEmitter, listener: () => void): void {
  if ('removeEventListener' in signal) signal.removeEventListener('abort', listener)
  else signal.removeListener('abort', listener)
}

/** Where undici sends a request: origin, and path with its query. */
interface Target {
  readonly origin: string
  readonly path: string
}

/**
 * URLs already split. A provider sends to a handful of URLs, and `new URL`
 * costs about 3 µs a request; the map starts over when it grows past a
 * limit, so a caller with ever-new URLs costs memory for none of them.
 */
const targets = new Map<string, Target>()
const maxTargets = 256

/** `url` split as `undici.request` splits it, when it is an `http:` or `https:` URL. */
function splitURL(url: string): Target | undefined {
  const known = targets.get(url)
  if (known !== undefined) return known
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined
  const target: Target = {
    origin: parsed.origin,
    path: parsed.search === '' ? parsed.pathname : `${parsed.pathname}${parsed.search}`,
  }
  if (targets.size >= maxTargets) targets.clear()
  targets.set(url, target)
  return target
}

/**
 * undici's headers with any repeated header (`set-cookie`) joined into one
 * value; undici's own object when nothing repeats (the usual case), as
 * copying it would cost every call.
 */
function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  let flat = true
  for (const name in headers) {
    if (typeof headers[name] !== 'string') {
      flat = false
      break
    }
  }
  if (flat) return headers as Record<string, string>
  const out: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) out[name] = typeof value === 'string' ? value : value.join(', ')
  }
  return out
}

/** The body's chunks as an async iterator, over {@link UndiciExchange.flow}; leaving early cancels it. */
async function* iterateBody(exchange: UndiciExchange): AsyncGenerator<Uint8Array, void, undefined> {
  const chunks: Uint8Array[] = []
  let over = false
  let failure: UnderstudyError | undefined
  let wake: (() => void) | undefined
  const flow: BodyFlow = exchange.flow({
    chunk(bytes) {
      chunks.push(bytes)
      flow.pause()
      wake?.()
    },
    end() {
      over = true
      wake?.()
    },
    error(error) {
      failure = error
      over = true
      wake?.()
    },
  })
  try {
    for (;;) {
      const chunk = chunks.shift()
      if (chunk !== undefined) {
        yield chunk
        flow.resume()
        continue
      }
      if (failure !== undefined) throw failure
      if (over) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  } finally {
    if (!over) await flow.cancel()
  }
}

function noop(): void {}

export { UndiciExchange }
