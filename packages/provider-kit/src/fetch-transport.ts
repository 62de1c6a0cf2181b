import { UnderstudyError } from '@understudy/core'
import type {
  AbortEmitter,
  BodyFlow,
  BodyListener,
  HttpResponse,
  SendRequestOptions,
} from './send-request.js'
import { PullBodyFlow } from './pull-body-flow.js'
import { parseJsonBody, safeLocation, transportError } from './transport-error.js'

/** `signal` as an `AbortSignal`, for `fetch`: itself, or one that aborts with the emitter. */
function toAbortSignal(signal: AbortSignal | AbortEmitter): AbortSignal {
  if ('addEventListener' in signal) return signal
  const controller = new AbortController()
  if (signal.aborted) controller.abort(signal.reason)
  else signal.once('abort', () => controller.abort(signal.reason))
  return controller.signal
}

/**
 * A signal that aborts with either: `AbortSignal.any` where the runtime has
 * it (it lets go of its listeners); else a listener on `caller`.
 */
function eitherSignal(caller: AbortSignal, own: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([caller, own.signal])
  if (caller.aborted) own.abort(caller.reason)
  else caller.addEventListener('abort', () => own.abort(caller.reason), { once: true })
  return own.signal
}

export async function sendWithFetch(options: SendRequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'POST'
  const send = options.fetch ?? globalThis.fetch
  // Ours to abort: `cancel()` stops a body whose stream a read holds locked.
  const own = new AbortController()
  let response: Response
  try {
    const init: RequestInit = { method, redirect: 'manual' }
    if (options.headers !== undefined) init.headers = options.headers
    if (options.body !== undefined) init.body = options.body
    init.signal =
      options.signal === undefined ? own.signal : eitherSignal(toAbortSignal(options.signal), own)
    response = await send(options.url, init)
  } catch (error) {
    throw transportError(error, options, method, 'request')
  }
  return new FetchResponse(response, options, method, own)
}

/** A `fetch` response. */
export class FetchResponse implements HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly #response: Response
  readonly #options: SendRequestOptions
  readonly #method: string
  readonly #own: AbortController
  #cancelled = false

  constructor(
    response: Response,
    options: SendRequestOptions,
    method: string,
    own: AbortController,
  ) {
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    this.status = response.status
    this.headers = headers
    this.#response = response
    this.#options = options
    this.#method = method
    this.#own = own
  }

  get body(): AsyncIterable<Uint8Array> {
    return readFetchBody(this.#response, (error) => this.#fail(error))
  }

  text(): Promise<string> {
    return this.#response.text().catch((error: unknown) => this.#fail(error))
  }

  json(): Promise<unknown> {
    return this.#response.text().then(parseJsonBody, (error: unknown) => this.#fail(error))
  }

  /** See {@link flowBody}: the body read through one reader, a chunk at a time while wanted. */
  flow(listener: BodyListener): BodyFlow {
    const stream = this.#response.body
    if (stream === null) {
      queueMicrotask(() => listener.end())
      return { pause: noop, resume: noop, cancel: () => Promise.resolve() }
    }
    // One `read()` at a time while flowing; cancelling settles a pending one as done.
    const reader = stream.getReader()
    return new PullBodyFlow(
      {
        read: () => reader.read(),
        cancel: () => reader.cancel(),
        typed: (error) => transportError(error, this.#options, this.#method, 'body'),
      },
      listener,
    )
  }

  /**
   * Closes the connection if the body was not read to its end. A read still
   * waiting holds the stream locked: the fetch itself is aborted then, and
   * that read fails with kind `aborted`.
   */
  async cancel(): Promise<void> {
    if (this.#cancelled) return
    this.#cancelled = true
    const body = this.#response.body
    if (body === null) return
    if (body.locked || this.#response.bodyUsed) this.#own.abort(new Error('the body was cancelled'))
    else await body.cancel().catch(noop)
  }

  #fail(error: unknown): never {
    if (this.#cancelled) {
      throw new UnderstudyError({
        kind: 'aborted',
        message: `${this.#method} ${safeLocation(this.#options.url)}: the body was cancelled`,
        cause: error,
      })
    }
    throw transportError(error, this.#options, this.#method, 'body')
  }
}

async function* readFetchBody(
  response: Response,
  fail: (error: unknown) => never,
): AsyncGenerator<Uint8Array, void, undefined> {
  const stream = response.body
  if (stream === null) return
  const reader = stream.getReader()
  let finished = false
  try {
    for (;;) {
      const read = await reader.read().catch(fail)
      if (read.done) {
        finished = true
        return
      }
      yield read.value
    }
  } finally {
    // The consumer left early: cancelling the stream closes the connection.
    if (!finished) await reader.cancel().catch(noop)
    reader.releaseLock()
  }
}

function noop(): void {}
