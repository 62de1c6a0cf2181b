import { isUnderstudyError, UnderstudyError } from '@understudy/core'
import type { Dispatcher } from 'undici'
import { FetchResponse, sendWithFetch } from './fetch-transport.js'
import { PullBodyFlow } from './pull-body-flow.js'
import { sendWithUndici, UndiciExchange } from './undici-transport.js'

/** A `fetch` as the runtime has it: the global one, undici's, or a test's. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>

/** What sends the request: undici's dispatcher (Node), or a `fetch` for runtimes without undici. */
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
 * By default the request goes through undici's global
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
  if (response instanceof UndiciExchange || response instanceof FetchResponse) {
    return response.flow(listener)
  }
  // Any other response: its `body` iterator, one `next()` at a time while flowing.
  const iterator = response.body[Symbol.asyncIterator]()
  return new PullBodyFlow(
    {
      read: () => iterator.next(),
      cancel: () => Promise.all([iterator.return?.(), response.cancel()]),
      typed: (error) =>
        isUnderstudyError(error)
          ? error
          : new UnderstudyError({
              kind: 'unknown',
              message: 'the body could not be read',
              cause: error,
            }),
    },
    listener,
  )
}
