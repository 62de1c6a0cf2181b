import { type ErrorKind, isUnderstudyError, UnderstudyError } from '@understudy/core'
import type { Dispatcher } from 'undici'

/** A `fetch` as the runtime has it: the global one, undici's, or a test's. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

/** What sends the request: `undici.request` (Node), or a `fetch` for runtimes without undici. */
export type Transport = 'undici' | 'fetch'

/** One HTTP request, as {@link sendRequest} takes it. */
export interface SendRequestOptions {
  /** The whole URL. Only its origin and path ever appear in an error message. */
  readonly url: string
  /** @default 'POST' */
  readonly method?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The body, already serialised. */
  readonly body?: string | Uint8Array | undefined
  /**
   * Aborting it cancels the request: before the headers, or while the body is
   * read. The undici transport also takes an {@link AbortEmitter}, which
   * costs less per request than an `AbortSignal`; `fetch` gets a signal made from it.
   */
  readonly signal?: AbortSignal | AbortEmitter | undefined
  /**
   * The undici dispatcher (an `Agent` with its own pool settings, a
   * `ProxyAgent`, custom TLS). @default undici's global dispatcher: keep-alive
   * pools per origin, shared by every caller in the process
   */
  readonly dispatcher?: Dispatcher | undefined
  /**
   * `'fetch'` sends with `fetch` (the `fetch` option, else the global one),
   * for runtimes without undici; `dispatcher` is then ignored.
   * @default 'undici', or 'fetch' when `fetch` is given
   */
  readonly transport?: Transport | undefined
  /** The `fetch` to send with; giving one selects the fetch transport. */
  readonly fetch?: FetchFunction | undefined
}

/**
 * An abort as undici's `request` hears it besides an `AbortSignal`: an
 * emitter of one `'abort'` event, with `aborted` and `reason` set by then.
 */
export interface AbortEmitter {
  readonly aborted: boolean
  readonly reason: unknown
  on(event: 'abort', listener: () => void): unknown
  once(event: 'abort', listener: () => void): unknown
  removeListener(event: 'abort', listener: () => void): unknown
}

/**
 * The answer to {@link sendRequest}: status and headers, with the body not
 * yet read. Read it once — as text, JSON or chunks — or cancel it: an unread
 * body holds its connection. Every read rejects with an `UnderstudyError`
 * (`aborted`, `network`, `timeout`, `unknown`).
 */
export interface HttpResponse {
  readonly status: number
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  /** The body's bytes as they arrive. Leaving the loop early cancels the body. */
  readonly body: AsyncIterable<Uint8Array>
  /** The whole body as UTF-8 text. */
  text(): Promise<string>
  /** The whole body parsed as JSON; a body that does not parse is kind `server`. */
  json(): Promise<unknown>
  /**
   * Stops reading and closes the connection if the body was not read to its
   * end, so the server sees it closed. Never rejects; a second call does nothing.
   */
  cancel(): Promise<void>
}

type Undici = typeof import('undici')

let undici: Undici | undefined
let loadingUndici: Promise<Undici> | undefined

/**
 * undici, imported on first use: a runtime that sends with `fetch` never
 * loads it. Kept once loaded — the module, not any per-call state.
 */
function loadUndici(): Undici | Promise<Undici> {
  if (undici !== undefined) return undici
  loadingUndici ??= import('undici').then((module) => {
    undici = module
    return module
  })
  return loadingUndici
}

/**
 * Sends one HTTP request and resolves once the response headers arrive; it
 * never retries and never follows a redirect. It does not judge the status:
 * a 429 resolves like a 200. Transport failures reject with an
 * `UnderstudyError`: the caller's abort is kind `aborted` (the signal's
 * reason as `cause`); a refused, reset or closed connection or a failed DNS
 * lookup is `network`; undici's headers or body timeout is `timeout`;
 * anything else is `unknown`. Messages name the method, origin and path —
 * never the query string or a header.
 *
 * By default the request goes through `undici.request` on undici's global
 * dispatcher (keep-alive pools per origin, reused across calls and clients;
 * never replaced). Give a `dispatcher` for a proxy, custom TLS or your own
 * pool, or `fetch` / `transport: 'fetch'` where undici cannot run.
 *
 * @example
 * const response = await sendRequest({
 *   url: 'https://api.openai.com/v1/chat/completions',
 *   headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
 *   body: JSON.stringify(body),
 *   signal,
 * })
 * if (response.status === 200) console.log(await response.json())
 * else await response.cancel()
 */
export function sendRequest(options: SendRequestOptions): Promise<HttpResponse> {
  if (options.fetch !== undefined || options.transport === 'fetch') return sendWithFetch(options)
  const loaded = loadUndici()
  return loaded instanceof Promise
    ? loaded.then((module) => sendWithUndici(module, options))
    : sendWithUndici(loaded, options)
}

/** `signal` as an `AbortSignal`, for `fetch`: itself, or one that aborts with the emitter. */
function toAbortSignal(signal: AbortSignal | AbortEmitter): AbortSignal {
  if ('addEventListener' in signal) return signal
  const controller = new AbortController()
  if (signal.aborted) controller.abort(signal.reason)
  else signal.once('abort', () => controller.abort(signal.reason))
  return controller.signal
}

async function sendWithUndici(module: Undici, options: SendRequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'POST'
  let data: Dispatcher.ResponseData<unknown>
  try {
    // undici takes an EventEmitter-like signal too (`on`/`once`/`removeListener`).
    const signal = (options.signal ?? null) as Dispatcher.RequestOptions['signal']
    const body = options.body ?? null
    const headers = options.headers as Record<string, string> | undefined
    const url = parseHttpURL(options.url)
    if (url === undefined) {
      // undici refuses it with its own error, as it always has.
      const init: { dispatcher?: Dispatcher } & Omit<Dispatcher.RequestOptions, 'origin' | 'path'> =
        { method: method as Dispatcher.HttpMethod, body, signal }
      if (headers !== undefined) init.headers = headers
      if (options.dispatcher !== undefined) init.dispatcher = options.dispatcher
      data = await module.request(options.url, init)
    } else {
      // What `undici.request(url, init)` does, without its wrapper: that
      // copies the options with a spread followed by more fields, which V8
      // runs on a slow path — about 6 µs of CPU a call on Node 20 (measured
      // against undici's MockAgent; 12 µs at 64 in flight on loopback).
      // Called as undici's own `request` on the dispatcher, so a dispatcher
      // that has only `dispatch` works as it does with `undici.request`.
      data = await module.Dispatcher.prototype.request.call(
        options.dispatcher ?? module.getGlobalDispatcher(),
        {
          origin: url.origin,
          // As undici.request makes it.
          path: url.search === '' ? url.pathname : `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          body,
          signal,
          headers: headers ?? null,
        },
      )
    }
  } catch (error) {
    throw transportError(error, options, method, 'request')
  }
  return new UndiciResponse(data, options, method)
}

/** `text` parsed as `undici.request` parses it, when it is an `http:` or `https:` URL. */
function parseHttpURL(text: string): URL | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined
}

type UndiciBody = Dispatcher.ResponseData['body']

/**
 * An undici response. A class rather than a literal of closures: it is made
 * on every call, and V8 builds class instances faster.
 */
class UndiciResponse implements HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly #body: UndiciBody
  readonly #options: SendRequestOptions
  readonly #method: string
  #cancelled = false

  constructor(data: Dispatcher.ResponseData<unknown>, options: SendRequestOptions, method: string) {
    this.status = data.statusCode
    this.headers = flattenHeaders(data.headers)
    this.#body = data.body
    this.#options = options
    this.#method = method
  }

  get body(): AsyncIterable<Uint8Array> {
    return readUndiciBody(this.#body, (error) => this.#fail(error))
  }

  text(): Promise<string> {
    return this.#body.text().catch((error: unknown) => this.#fail(error))
  }

  json(): Promise<unknown> {
    return this.#body.text().then(parseJsonBody, (error: unknown) => this.#fail(error))
  }

  /** See {@link flowBody}: the body read on demand, as its async iterator reads it. */
  flow(listener: BodyListener): BodyFlow {
    return new UndiciBodyFlow(
      this.#body,
      listener,
      (error) => transportError(error, this.#options, this.#method, 'body'),
      () => this.cancel(),
    )
  }

  cancel(): Promise<void> {
    const body = this.#body
    if (!this.#cancelled && !body.destroyed) {
      this.#cancelled = true
      // undici makes a body destroyed before its end emit an abort error: nobody
      // waits for it, so it must not become an uncaught 'error' event.
      body.on('error', noop)
      body.destroy()
    }
    return Promise.resolve()
  }

  #fail(error: unknown): never {
    throw transportError(error, this.#options, this.#method, 'body')
  }
}

async function* readUndiciBody(
  body: UndiciBody,
  fail: (error: unknown) => never,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    // Leaving this loop early (the consumer's `return()`) destroys the body,
    // which makes undici close the socket.
    for await (const chunk of body) yield chunk as Uint8Array
  } catch (error) {
    fail(error)
  }
}

async function sendWithFetch(options: SendRequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'POST'
  const send = options.fetch ?? globalThis.fetch
  let response: Response
  try {
    const init: RequestInit = { method, redirect: 'manual' }
    if (options.headers !== undefined) init.headers = options.headers
    if (options.body !== undefined) init.body = options.body
    if (options.signal !== undefined) init.signal = toAbortSignal(options.signal)
    response = await send(options.url, init)
  } catch (error) {
    throw transportError(error, options, method, 'request')
  }
  return new FetchResponse(response, options, method)
}

/** A `fetch` response. */
class FetchResponse implements HttpResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly #response: Response
  readonly #options: SendRequestOptions
  readonly #method: string
  #cancelled = false

  constructor(response: Response, options: SendRequestOptions, method: string) {
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => {
      headers[name] = value
    })
    this.status = response.status
    this.headers = headers
    this.#response = response
    this.#options = options
    this.#method = method
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
    return new FetchBodyFlow(stream.getReader(), listener, (error) =>
      transportError(error, this.#options, this.#method, 'body'),
    )
  }

  async cancel(): Promise<void> {
    if (this.#cancelled || this.#response.bodyUsed) return
    this.#cancelled = true
    await this.#response.body?.cancel().catch(noop)
  }

  #fail(error: unknown): never {
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

/** Who hears a body read by {@link flowBody}; nothing is heard after `end` or `error`. */
export interface BodyListener {
  chunk(bytes: Uint8Array): void
  end(): void
  /** The read failed; the error is typed as the body's iterator would reject. */
  error(error: UnderstudyError): void
}

/** A body being read by {@link flowBody}. */
export interface BodyFlow {
  /** Stops handing out chunks until {@link resume}; the transport's backpressure holds the rest upstream. */
  pause(): void
  resume(): void
  /** Stops reading and closes the connection if the body has not ended; at once, even while a read is pending. */
  cancel(): Promise<void>
}

/**
 * Reads `response`'s body by handing its chunks to `listener` as they
 * arrive, until paused: the push-style twin of `response.body`, for a
 * reader that answers its own consumer without an async generator per
 * layer. Chunks flow from the start (call `pause()` at once to wait). Not
 * part of the public API.
 */
export function flowBody(response: HttpResponse, listener: BodyListener): BodyFlow {
  if (response instanceof UndiciResponse || response instanceof FetchResponse) {
    return response.flow(listener)
  }
  return new IteratorBodyFlow(response, listener)
}

/**
 * An undici body read with `read()` while flowing, and on its `'readable'`
 * events: what its async iterator does, without a promise per chunk. Not
 * `'data'` events with `pause()`: undici then hands out views of one buffer
 * holding the whole rest of the body (3.8 MB in the benchmark's large
 * stream), so a slow reader keeps it all in memory; `read()` copies what it
 * returns and the socket stays paused while the body's buffer is full.
 */
class UndiciBodyFlow implements BodyFlow {
  readonly #body: UndiciBody
  readonly #listener: BodyListener
  readonly #cancel: () => Promise<void>
  #flowing = true
  #over = false

  constructor(
    body: UndiciBody,
    listener: BodyListener,
    typed: (error: unknown) => UnderstudyError,
    cancel: () => Promise<void>,
  ) {
    this.#body = body
    this.#listener = listener
    this.#cancel = cancel
    body.on('readable', () => this.#drain())
    body.on('end', () => {
      if (this.#over) return
      this.#over = true
      listener.end()
    })
    body.on('error', (error: unknown) => {
      // After cancel() undici's abort error is ours: nobody is told.
      if (this.#over) return
      this.#over = true
      listener.error(typed(error))
    })
  }

  pause(): void {
    this.#flowing = false
  }

  resume(): void {
    if (this.#flowing) return
    this.#flowing = true
    this.#drain()
  }

  cancel(): Promise<void> {
    this.#over = true
    return this.#cancel()
  }

  #drain(): void {
    const body = this.#body
    while (this.#flowing && !this.#over) {
      const chunk: unknown = body.read()
      if (chunk === null) return
      this.#listener.chunk(chunk as Uint8Array)
    }
  }
}

/** A `fetch` body read through its reader: one `read()` at a time while flowing. */
class FetchBodyFlow implements BodyFlow {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #listener: BodyListener
  readonly #typed: (error: unknown) => UnderstudyError
  #flowing = true
  #reading = false
  #over = false

  constructor(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    listener: BodyListener,
    typed: (error: unknown) => UnderstudyError,
  ) {
    this.#reader = reader
    this.#listener = listener
    this.#typed = typed
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
    // Settles a pending read() as done and closes the connection.
    return this.#reader.cancel().then(noop, noop)
  }

  #read(): void {
    if (this.#over) return
    this.#reading = true
    this.#reader.read().then(this.#onRead, this.#onError)
  }

  readonly #onRead = (
    read: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>,
  ): void => {
    this.#reading = false
    if (this.#over) return
    if (read.done) {
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
    this.#listener.error(this.#typed(error))
  }
}

/** Any other {@link HttpResponse}: its `body` iterator, one `next()` at a time while flowing. */
class IteratorBodyFlow implements BodyFlow {
  readonly #response: HttpResponse
  readonly #iterator: AsyncIterator<Uint8Array>
  readonly #listener: BodyListener
  #flowing = true
  #reading = false
  #over = false

  constructor(response: HttpResponse, listener: BodyListener) {
    this.#response = response
    this.#iterator = response.body[Symbol.asyncIterator]()
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
    const returned = this.#iterator.return?.()
    return Promise.all([returned, this.#response.cancel()]).then(noop, noop)
  }

  #read(): void {
    if (this.#over) return
    this.#reading = true
    this.#iterator.next().then(this.#onRead, this.#onError)
  }

  readonly #onRead = (read: IteratorResult<Uint8Array>): void => {
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
    this.#listener.error(
      isUnderstudyError(error)
        ? error
        : new UnderstudyError({
            kind: 'unknown',
            message: 'the body could not be read',
            cause: error,
          }),
    )
  }
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UnderstudyError({
      kind: 'server',
      message: `the response body is not valid JSON (${text.length} characters)`,
      cause: error,
    })
  }
}

/** Network error codes of Node and undici, and what each means in a message. */
const networkCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'connection closed before the whole body',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'host not found (DNS)',
  EAI_FAIL: 'host not found (DNS)',
  EAI_NONAME: 'host not found (DNS)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network unreachable',
}

/** undici's own timeouts (`headersTimeout`, `bodyTimeout` of the dispatcher): the upstream was too slow. */
const timeoutCodes: Readonly<Record<string, string>> = {
  UND_ERR_HEADERS_TIMEOUT: 'no response headers within the dispatcher headersTimeout',
  UND_ERR_BODY_TIMEOUT: 'the body stalled beyond the dispatcher bodyTimeout',
}

/** A transport failure as a typed error whose message holds no query string and no header. */
function transportError(
  error: unknown,
  options: SendRequestOptions,
  method: string,
  phase: 'request' | 'body',
): UnderstudyError {
  if (isUnderstudyError(error)) return error
  const where = `${method} ${safeLocation(options.url)}`
  const during = phase === 'body' ? ' while reading the body' : ''
  const signal = options.signal
  // Whatever broke once the caller aborted, the reason is the abort.
  if (signal?.aborted === true) {
    return new UnderstudyError({
      kind: 'aborted',
      message: `${where}: aborted${during}`,
      cause: signal.reason,
    })
  }
  const code = errorCode(error)
  let kind: ErrorKind = 'unknown'
  let what = `failed${during} (${code ?? nameOf(error)})`
  const network = code === undefined ? undefined : networkCodes[code]
  const timeout = code === undefined ? undefined : timeoutCodes[code]
  if (network !== undefined) {
    kind = 'network'
    what = `${network}${during} (${code})`
  } else if (timeout !== undefined) {
    kind = 'timeout'
    what = `${timeout} (${code})`
  } else if (code === undefined && error instanceof TypeError && isFetchTransport(options)) {
    // fetch rejects with a bare TypeError for every network error (Fetch
    // standard); runtimes other than Node give no code to tell them apart.
    kind = 'network'
    what = `network error${during} (${error.message})`
  }
  return new UnderstudyError({ kind, message: `${where}: ${what}`, cause: error })
}

function isFetchTransport(options: SendRequestOptions): boolean {
  return options.fetch !== undefined || options.transport === 'fetch'
}

/** The error's `code`, or that of the first cause that has one (fetch wraps undici's error). */
function errorCode(error: unknown): string | undefined {
  let current = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = Reflect.get(current, 'code')
    if (typeof code === 'string' && code !== '') return code
    current = Reflect.get(current, 'cause')
  }
  return undefined
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

/** Origin and path of `url`: no user info, no query, no fragment. */
function safeLocation(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return '(an invalid URL)'
  }
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

function noop(): void {}
