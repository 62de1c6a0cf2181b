import {
  type ChatRequest,
  type ErrorKind,
  isSecretHeader,
  isUnderstudyError,
  type Provider,
  type ProviderContext,
  type ProviderResponse,
  type ProviderStreamEvent,
  redactSecrets,
  UnderstudyError,
} from '@understudy/core'
import type { Dispatcher } from 'undici'
import { keyHelp } from './check-provider-options.js'
import { errorFromResponse, readRequestId } from './http-error.js'
import type { AttemptTarget, HttpRequestSpec, ProviderSpec } from './provider-spec.js'
import { redactSecretParams } from './redact.js'
import { RequestURLs } from './request-urls.js'
import {
  type AbortEmitter,
  type FetchFunction,
  type HttpResponse,
  sendRequest,
} from './send-request.js'
import { SseEventStream } from './sse-event-stream.js'

/** How a provider made by {@link defineProvider} sends its requests. */
export interface DefineProviderOptions {
  /**
   * The undici dispatcher for every request (an `Agent` with your pool
   * settings, a `ProxyAgent`, custom TLS). @default undici's global
   * dispatcher: keep-alive pools per origin, shared across clients
   */
  readonly dispatcher?: Dispatcher | undefined
  /** Send with this `fetch` instead of undici (runtimes without undici, or tests). */
  readonly fetch?: FetchFunction | undefined
}

/** An error body larger than this is not read to its end (the connection is closed instead). */
const maxErrorBodyBytes = 256 * 1024

/** One attempt, ready to send: where, what, and the key in use. */
interface Prepared {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly key: string | undefined
  readonly target: AttemptTarget
}

/**
 * Turns a {@link ProviderSpec} — the dialect of one HTTP API — into a core
 * `Provider`. The provider owns everything that is not the dialect:
 *
 * - **One request per call**, never a retry (the client owns retries).
 * - **Credentials (DESIGN.md rule 2)**: the context's `apiKey` wins; a
 *   context `baseURL` without a context `apiKey` is sent no key at all;
 *   otherwise `spec.apiKey()` (awaited), whose absence is kind `auth` with no
 *   request made (its message says how to set a key when `spec.keySource`
 *   says where users set it).
 * - **Headers**, later ones winning, names in lower case: `content-type`,
 *   `accept`, then `spec.headers`, the request's dialect headers,
 *   `context.headers`, and the auth headers last.
 * - **The URL**: `(context.baseURL ?? spec.baseURL) + path`, with one `/` between.
 * - **Health**: `configuredTarget()` tells core the base URL and
 *   `spec.configuredKey()`, so its health keys tell this provider apart from
 *   another of the same id on another endpoint or key.
 * - **Errors**: a non-2xx is {@link errorFromResponse} (status, `readError`,
 *   Retry-After, request id); a 2xx that is not JSON (`complete`) or not
 *   `text/event-stream` (`stream`), or whose body does not parse, is kind
 *   `server`; transport failures are `network` / `timeout` / `aborted` /
 *   `unknown`. Every message has the key in use (and every credential header
 *   value) redacted.
 * - **Streams**: `stream()` sends nothing until the first `next()`; it reads
 *   the SSE body as `readSse` does, feeds a fresh `spec.createStreamParser()`,
 *   yields its events and calls its `end()` when the body ends. It reads no
 *   further ahead than one chunk of the body while the consumer is behind.
 *   Leaving the loop early (`break`, `return()`) or aborting closes the
 *   connection at once, even while a read is pending.
 * - **Abort**: `context.signal` (or, cheaper, the context's `onAbort`)
 *   goes to the request; an abort after the
 *   headers also stops the body read. Either way the call rejects with kind
 *   `aborted`, the signal's reason as `cause`.
 *
 * @example
 * const acme = defineProvider({
 *   id: 'acme',
 *   baseURL: 'https://api.acme.example/v1',
 *   apiKey: () => process.env.ACME_KEY,
 *   authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
 *   buildRequest: (request, { stream }) => ({ path: '/chat', body: { ...request, stream } }),
 *   parseResponse: (body, info) => toResponse(body, info),
 *   createStreamParser: () => createAcmeStreamParser(),
 *   readError: (status, body) => ({ message: messageOf(body) }),
 * })
 */
export function defineProvider(spec: ProviderSpec, options: DefineProviderOptions = {}): Provider {
  const { id } = spec
  const baseURL = trimSlashes(spec.baseURL)
  const urls = new RequestURLs()
  const missingKey =
    spec.keySource === undefined
      ? `no API key is configured for provider ${id}`
      : `no API key: ${keyHelp(spec.keySource)}, or give the target its own apiKey`

  /**
   * Picks the attempt's credentials and builds its HTTP request; throws
   * before any I/O. Synchronous unless `spec.apiKey()` returns a promise: an
   * async function here (and in {@link pickKey}) would cost every call two
   * promises and their microtask turns for a key that is a plain string.
   */
  function prepare(
    request: ChatRequest,
    context: ProviderContext,
    stream: boolean,
  ): Prepared | Promise<Prepared> {
    const key = pickKey(context, request.model)
    return isPromiseLike(key)
      ? Promise.resolve(key).then((picked) => assemble(request, context, stream, picked))
      : assemble(request, context, stream, key)
  }

  /** The headers, body and URL of an attempt whose key is known. */
  function assemble(
    request: ChatRequest,
    context: ProviderContext,
    stream: boolean,
    key: string | undefined,
  ): Prepared {
    const { model } = request
    const base = context.baseURL === undefined ? baseURL : trimSlashes(context.baseURL)
    const target: AttemptTarget = { model, baseURL: base, apiKey: key }
    let http: HttpRequestSpec
    try {
      http = spec.buildRequest(request, { stream, target })
    } catch (error) {
      throw typed(error, 'unknown', `${id}/${model}: the request could not be built`, model, [])
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    }
    assignLower(headers, spec.headers)
    assignLower(headers, http.headers)
    assignLower(headers, context.headers)
    if (key !== undefined) {
      assignLower(
        headers,
        spec.authHeaders(key, context.apiKey === undefined ? 'configured' : 'target'),
      )
    }
    let body: string
    try {
      body = JSON.stringify(http.body)
    } catch (error) {
      const secrets = secretsOf(key, headers)
      throw typed(error, 'unknown', `${id}/${model}: the request body is not JSON`, model, secrets)
    }
    return { url: urls.join(base, http.path), headers, body, key, target }
  }

  /**
   * DESIGN.md rule 2: the configured key goes only to the configured base
   * URL. A promise only when `spec.apiKey()` returns one (see {@link prepare}).
   */
  function pickKey(
    context: ProviderContext,
    model: string,
  ): string | undefined | PromiseLike<string | undefined> {
    if (context.apiKey !== undefined) return context.apiKey
    if (context.baseURL !== undefined) return undefined
    const authError = (error: unknown): never => {
      throw typed(error, 'auth', `${id}/${model}: the API key could not be read`, model, [])
    }
    let key: string | undefined | PromiseLike<string | undefined>
    try {
      key = spec.apiKey()
    } catch (error) {
      return authError(error)
    }
    if (isPromiseLike(key)) {
      return Promise.resolve(key).then((read) => checkKey(read, model), authError)
    }
    return checkKey(key, model)
  }

  /** The configured key as read; none at all is kind `auth` unless the spec needs none. */
  function checkKey(key: string | undefined, model: string): string | undefined {
    if (key === undefined || key === '') {
      if (spec.keyRequired === false) return undefined
      throw new UnderstudyError({
        kind: 'auth',
        message: `${id}/${model}: ${missingKey}`,
        provider: id,
        model,
      })
    }
    return key
  }

  /** Sends the attempt's one request; resolves once its headers arrive, whatever the status. */
  function send(prepared: Prepared, abort: AbortSignal | AbortEmitter): Promise<HttpResponse> {
    // One literal with every field (undefined when unset), not a spread of
    // `sendOptions`: V8 builds it with a fixed shape, once per call.
    return sendRequest({
      url: prepared.url,
      method: 'POST',
      headers: prepared.headers,
      body: prepared.body,
      signal: abort,
      dispatcher: options.dispatcher,
      fetch: options.fetch,
    })
  }

  /** Whether `response` is a 2xx of the expected content type, the one answer an attempt reads. */
  function isExpected(response: HttpResponse, expected: 'json' | 'event-stream'): boolean {
    const { status } = response
    if (status < 200 || status > 299) return false
    const type = response.headers['content-type'] ?? ''
    return expected === 'json' ? isJson(type) : type.includes('text/event-stream')
  }

  /**
   * The error of an answer that is not {@link isExpected}: a 2xx of another
   * content type is kind `server`; anything else is {@link errorFromResponse}
   * of its status and body. Always rejects.
   */
  async function rejectResponse(
    response: HttpResponse,
    prepared: Prepared,
    model: string,
    expected: 'json' | 'event-stream',
  ): Promise<never> {
    const { status, headers } = response
    if (status >= 200 && status <= 299) {
      const type = headers['content-type'] ?? ''
      await response.cancel()
      throw new UnderstudyError({
        kind: 'server',
        message: `${id}/${model} ${status}: the content type is ${type === '' ? 'missing' : `"${cut(type)}"`}, not ${expected === 'json' ? 'JSON' : 'text/event-stream'}`,
        provider: id,
        model,
        status,
        requestId: readRequestId(headers),
      })
    }
    const text = await readErrorBody(response)
    throw errorFromResponse({
      provider: id,
      model,
      status,
      headers,
      body: parseLoose(text),
      readError: spec.readError,
      now: Date.now(),
      secrets: secretsOf(prepared.key, prepared.headers),
    })
  }

  async function complete(
    request: ChatRequest,
    context: ProviderContext,
  ): Promise<ProviderResponse> {
    const { model } = request
    const abort = abortOf(context)
    let prepared: Prepared | undefined
    try {
      const ready = prepare(request, context, false)
      prepared = ready instanceof Promise ? await ready : (ready as Prepared)
      const response = await send(prepared, abort)
      if (!isExpected(response, 'json')) await rejectResponse(response, prepared, model, 'json')
      const body = await response.json()
      const headerId = readRequestId(response.headers)
      let parsed: ProviderResponse
      try {
        parsed = spec.parseResponse(body, {
          status: response.status,
          requestId: headerId,
          target: prepared.target,
        })
      } catch (error) {
        throw typed(error, 'server', `${id}/${model}: the response is not one`, model, [])
      }
      const requestId = parsed.requestId ?? headerId
      if (parsed.status !== undefined && requestId === parsed.requestId) return parsed
      // Not `{ ...parsed, status }`: in V8 a spread followed by more fields
      // takes a slow path, about 1 µs a call on Node 20.
      const copy: { -readonly [K in keyof ProviderResponse]: ProviderResponse[K] } = Object.assign(
        {},
        parsed,
      )
      copy.status = parsed.status ?? response.status
      if (requestId !== undefined) copy.requestId = requestId
      return copy
    } catch (error) {
      throw attemptError(error, context, abort, model, prepared)
    }
  }

  function stream(
    request: ChatRequest,
    context: ProviderContext,
  ): AsyncIterable<ProviderStreamEvent> {
    const { model } = request
    let abort: AbortSignal | AbortEmitter | undefined
    let prepared: Prepared | undefined
    return new SseEventStream({
      async open() {
        abort = abortOf(context)
        const ready = prepare(request, context, true)
        prepared = ready instanceof Promise ? await ready : (ready as Prepared)
        const response = await send(prepared, abort)
        if (!isExpected(response, 'event-stream')) {
          await rejectResponse(response, prepared, model, 'event-stream')
        }
        return response
      },
      // `open()` runs first and sets `prepared`.
      createParser: () => spec.createStreamParser((prepared as Prepared).target),
      // `open()` sets `abort` first thing, and nothing fails before it runs.
      toError: (error) =>
        attemptError(error, context, abort as AbortSignal | AbortEmitter, model, prepared),
    })
  }

  /**
   * The error an attempt rejects with: typed, naming this provider and model,
   * redacted; kind `aborted` whatever broke once the caller's signal fired.
   * The secrets are gathered here, on failure only, not on every call.
   */
  function attemptError(
    error: unknown,
    context: ProviderContext,
    abort: AbortSignal | AbortEmitter,
    model: string,
    prepared: Prepared | undefined,
  ): UnderstudyError {
    const secrets =
      prepared === undefined
        ? secretsOf(context.apiKey, context.headers ?? {})
        : secretsOf(prepared.key, prepared.headers)
    const aborted = abort.aborted
    if (isUnderstudyError(error)) {
      const prefix = `${id}/${model}`
      // errorFromResponse writes `id/model 429: …`; everything else gets the prefix here.
      const named = error.message.startsWith(`${prefix} `) || error.message.startsWith(`${prefix}:`)
      const message = named ? error.message : `${prefix}: ${error.message}`
      const clean = redactSecretParams(redactSecrets(message, secrets))
      const kind = aborted && error.kind !== 'aborted' ? 'aborted' : error.kind
      if (
        clean === error.message &&
        kind === error.kind &&
        error.provider === id &&
        error.model === model
      )
        return error
      return new UnderstudyError({
        kind,
        message: clean,
        provider: id,
        model,
        status: error.status,
        retryAfterMs: error.retryAfterMs,
        requestId: error.requestId,
        attempts: error.attempts,
        cause: kind === error.kind ? error.cause : abort.reason,
      })
    }
    if (aborted) {
      return new UnderstudyError({
        kind: 'aborted',
        message: `${id}/${model}: aborted`,
        provider: id,
        model,
        cause: abort.reason,
      })
    }
    return typed(error, 'unknown', `${id}/${model}: failed`, model, secrets)
  }

  /**
   * How the attempt hears its abort: through the context's `onAbort` when it
   * has one (the client's do), which spares making an `AbortSignal` and
   * adding a listener to it on every call; else its `signal`. `fetch` takes
   * only a signal, so the context's goes to it as it is.
   */
  function abortOf(context: ProviderContext): AbortSignal | AbortEmitter {
    if (options.fetch !== undefined || typeof context.onAbort !== 'function') return context.signal
    return new ContextAbort(context)
  }

  /** `error` as a typed error: an `UnderstudyError` keeps its kind; anything else gets `kind`. */
  function typed(
    error: unknown,
    kind: ErrorKind,
    what: string,
    model: string,
    secrets: readonly string[],
  ): UnderstudyError {
    if (isUnderstudyError(error)) return error
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return new UnderstudyError({
      kind,
      message: cut(redactSecretParams(redactSecrets(`${what} (${detail})`, secrets))),
      provider: id,
      model,
      cause: error,
    })
  }

  const { configuredKey } = spec
  return Object.freeze({
    id,
    complete,
    stream,
    configuredTarget: () => ({ baseURL, apiKey: configuredKey?.() }),
  })
}

type AbortListener = () => void

/**
 * A context's `onAbort` as the emitter undici's `request` takes for a
 * signal: `aborted` and `reason` set, then the `'abort'` listeners called.
 */
class ContextAbort implements AbortEmitter {
  aborted = false
  reason: unknown = undefined
  #listeners: AbortListener[] | undefined

  constructor(context: ProviderContext) {
    context.onAbort?.((reason) => {
      this.aborted = true
      this.reason = reason
      const listeners = this.#listeners
      this.#listeners = undefined
      if (listeners !== undefined) for (const listener of listeners) listener()
    })
  }

  on(_event: 'abort', listener: AbortListener): this {
    if (this.aborted) listener()
    else {
      this.#listeners ??= []
      this.#listeners.push(listener)
    }
    return this
  }

  once(event: 'abort', listener: AbortListener): this {
    // Called at most once anyway: the abort happens once.
    return this.on(event, listener)
  }

  removeListener(_event: 'abort', listener: AbortListener): this {
    const listeners = this.#listeners
    const at = listeners === undefined ? -1 : listeners.indexOf(listener)
    if (at !== -1) listeners?.splice(at, 1)
    return this
  }
}

/** Whether `value` is a promise or another thenable (a key read from a token service). */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' && value !== null && typeof Reflect.get(value, 'then') === 'function'
  )
}

/** Copies `from` into `to` with lower-case names, so `Authorization` and `authorization` are one header. */
function assignLower(
  to: Record<string, string>,
  from: Readonly<Record<string, string>> | undefined,
): void {
  if (from === undefined) return
  for (const name in from) {
    const value = from[name]
    if (value !== undefined) to[name.toLowerCase()] = value
  }
}

/** The key in use and every credential header's value: what no error may show. */
function secretsOf(key: string | undefined, headers: Readonly<Record<string, string>>): string[] {
  const secrets = key === undefined ? [] : [key]
  for (const name in headers) {
    if (!isSecretHeader(name)) continue
    const value = headers[name] as string
    secrets.push(value)
    // `Bearer sk-…`: the token alone may be echoed back without its scheme.
    const space = value.indexOf(' ')
    if (space !== -1) secrets.push(value.slice(space + 1))
  }
  return secrets
}

/**
 * The error body as text, up to {@link maxErrorBodyBytes}; a longer one is
 * cut and its connection closed. A body that cannot be read is `''`: the
 * status still says what happened (an abort still wins, in `attemptError`).
 */
async function readErrorBody(response: HttpResponse): Promise<string> {
  // A declared length within the limit (the usual JSON error) is read whole:
  // one read, without an async iterator and a decoder.
  const length = Number(response.headers['content-length'] ?? Number.NaN)
  if (length >= 0 && length <= maxErrorBodyBytes) {
    try {
      return await response.text()
    } catch {
      return ''
    } finally {
      await response.cancel()
    }
  }
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  try {
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true })
      bytes += chunk.byteLength
      if (bytes > maxErrorBodyBytes) break
    }
    return text + decoder.decode()
  } catch {
    return text
  } finally {
    await response.cancel()
  }
}

/** Parsed JSON when the text is JSON, else the text. */
function parseLoose(text: string): unknown {
  const first = text.trimStart()[0]
  if (first !== '{' && first !== '[') return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function isJson(contentType: string): boolean {
  if (contentType === 'application/json') return true
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? ''
  return type === 'application/json' || type.endsWith('+json') || type === 'text/json'
}

function trimSlashes(url: string): string {
  let end = url.length
  while (end > 0 && url.charCodeAt(end - 1) === 47) end--
  return end === url.length ? url : url.slice(0, end)
}

function cut(text: string): string {
  return text.length <= 300 ? text : `${text.slice(0, 299)}…`
}
