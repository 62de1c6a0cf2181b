import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Dialect, DialectRoute } from './dialect.js'
import { checkReplies } from './check-reply.js'
import type { AnswerReply, ErrorReply, FaultReply, RawReply, Reply } from './reply.js'
import { formatSseEvent, type SseEvent } from './sse.js'

/** One request a fake server received. */
export interface RecordedRequest {
  /** Its place in the order of arrival, from 0. */
  readonly index: number
  readonly method: string
  /** The path without the query string. */
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, or the raw text when it is not JSON. */
  readonly body: unknown
  /** The model the request names, as its dialect reads it. */
  readonly model: string | undefined
  readonly stream: boolean
  /** True once the client closed the connection before the response was complete. */
  readonly closedEarly: boolean
}

/** Options of every `startFake…()`. */
export interface FakeServerOptions {
  /** What every model answers, unless scripted: one reply, or one per request index (the last repeats). */
  readonly respond?: Reply | readonly Reply[]
}

/** A running fake server. Close it when the test ends. */
export interface FakeServer {
  /** The origin, `http://127.0.0.1:PORT`. */
  readonly url: string
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[]
  /**
   * Scripts `model`: its n-th request gets `replies[n]`, the last one
   * repeating. A model nobody scripted gets a short successful answer.
   */
  script(model: string, ...replies: readonly Reply[]): void
  /** Scripts every model without a script of its own, as the `respond` option does. */
  respondAll(...replies: readonly Reply[]): void
  /** Forgets the scripts and the request log. */
  reset(): void
  /** Resolves when the response to request `index` is over: finished, or cut by the client. */
  settled(index: number): Promise<RecordedRequest>
  /** Stops the server and destroys every connection and pending timer. */
  close(): Promise<void>
}

interface MutableRecord extends RecordedRequest {
  closedEarly: boolean
}

const defaultAnswer: AnswerReply = { text: 'Hello from the fake server.' }

/**
 * Starts a fake server speaking `dialect` on `127.0.0.1` (a free port).
 * Real sockets, real keep-alive; every reply scripted, as with
 * `startFakeOpenAI()`, which is this with the OpenAI dialect. Write a
 * {@link Dialect} to fake a vendor with a wire format of its own.
 *
 * @example
 * const server = await startFakeServer(acmeDialect, { respond: { status: 503 } })
 * // … point the provider under test at server.url …
 * await server.close()
 */
export async function startFakeServer(
  dialect: Dialect,
  options: FakeServerOptions = {},
): Promise<FakeServer> {
  const requests: MutableRecord[] = []
  const perModel = new Map<string, readonly Reply[]>()
  let everyModel: readonly Reply[] = toList(options.respond, 'respond')
  const counts = new Map<string, number>()
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const waiters = new Map<number, ((record: RecordedRequest) => void)[]>()
  const done = new Set<number>()

  const later = (ms: number, action: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      action()
    }, ms)
    timers.add(timer)
  }

  const finish = (record: MutableRecord): void => {
    if (done.has(record.index)) return
    done.add(record.index)
    for (const resolve of waiters.get(record.index) ?? []) resolve(record)
    waiters.delete(record.index)
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  server.keepAliveTimeout = 30_000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  function handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    const parsedURL = new URL(req.url ?? '/', 'http://127.0.0.1')
    const query = Object.fromEntries(parsedURL.searchParams)
    const body = parseBody(text)
    const headers = flattenHeaders(req.headers)
    const dialectRequest = {
      method: req.method ?? 'GET',
      path: parsedURL.pathname,
      query,
      headers,
      body,
    }
    const route = dialect.route(dialectRequest)
    const record: MutableRecord = {
      index: requests.length,
      method: req.method ?? 'GET',
      path: parsedURL.pathname,
      query,
      headers,
      body,
      model: route?.model,
      stream: route?.stream ?? false,
      closedEarly: false,
    }
    requests.push(record)
    res.on('close', () => {
      if (!res.writableFinished) record.closedEarly = true
      finish(record)
    })

    if (route === undefined) {
      sendJson(res, 404, { error: { message: `No route for ${record.method} ${record.path}` } }, {})
      return
    }
    const refused = dialect.reject?.(dialectRequest, route)
    const reply: Reply = refused ?? pick(route)
    const send = (): void => {
      if (res.destroyed) return
      serve(res, reply, route, record.index)
    }
    if (reply.headersDelayMs !== undefined && reply.headersDelayMs > 0)
      later(reply.headersDelayMs, send)
    else send()
  }

  function pick(route: DialectRoute): Reply {
    const model = route.model ?? ''
    const n = counts.get(model) ?? 0
    counts.set(model, n + 1)
    const list = perModel.get(model) ?? everyModel
    return list[Math.min(n, list.length - 1)] ?? defaultAnswer
  }

  function serve(res: ServerResponse, reply: Reply, route: DialectRoute, index: number): void {
    const headers = { ...dialect.responseHeaders(index), ...reply.headers }
    if ('raw' in reply) serveRaw(res, reply, headers)
    else if ('fault' in reply) serveFault(res, reply, route, headers)
    else if ('status' in reply) serveError(res, reply, route, headers)
    else if (!route.stream) sendJson(res, 200, dialect.answer(reply, route), headers)
    else
      writeStream(
        res,
        route,
        dialect.stream(reply, route).events,
        headers,
        reply.chunkDelayMs ?? 0,
        'end',
      )
  }

  function serveError(
    res: ServerResponse,
    reply: ErrorReply,
    route: DialectRoute,
    headers: Record<string, string>,
  ): void {
    const extra: Record<string, string> = { ...headers }
    if (reply.retryAfter !== undefined) extra['retry-after'] = reply.retryAfter
    if (reply.retryAfterMs !== undefined) extra['retry-after-ms'] = String(reply.retryAfterMs)
    sendJson(res, reply.status, reply.body ?? dialect.errorBody(reply.status, route, reply), extra)
  }

  function serveFault(
    res: ServerResponse,
    reply: FaultReply,
    route: DialectRoute,
    headers: Record<string, string>,
  ): void {
    const after = reply.afterEvents ?? 1
    const streamed = (): DialectStreamEvents =>
      dialect.stream({ text: 'Partial answer that will not finish.' }, route)
    switch (reply.fault) {
      case 'drop':
        res.socket?.destroy()
        return
      case 'drop-mid-body': {
        const body = JSON.stringify(dialect.answer(defaultAnswer, route))
        res.writeHead(200, {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        })
        res.write(body.slice(0, Math.floor(body.length / 2)))
        later(5, () => res.socket?.destroy())
        return
      }
      case 'malformed-json':
        res.writeHead(200, { ...headers, 'content-type': 'application/json' })
        res.end('{"id": "broken", "choices": [')
        return
      case 'wrong-content-type':
        res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' })
        res.end('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>')
        return
      case 'oversized': {
        const size = reply.sizeBytes ?? 8 * 1024 * 1024
        res.writeHead(200, {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(size),
        })
        const piece = Buffer.alloc(64 * 1024, 0x20)
        let left = size
        const pump = (): void => {
          while (left > 0) {
            const next = piece.subarray(0, Math.min(piece.length, left))
            left -= next.length
            if (!res.write(next)) {
              res.once('drain', pump)
              return
            }
          }
          res.end()
        }
        pump()
        return
      }
      case 'hang':
        return
      case 'malformed-sse': {
        const events: SseEvent[] = [{ data: '{"this is": not json' }, { data: '{"also broken"' }]
        writeStream(res, route, events, headers, 0, 'end')
        return
      }
      case 'drop-mid-stream':
        writeStream(res, route, streamed().events.slice(0, after), headers, 0, 'destroy')
        return
      case 'stall':
        writeStream(res, route, streamed().events.slice(0, after), headers, 0, 'stall')
        return
      case 'in-band-error':
        writeStream(
          res,
          route,
          [...streamed().events.slice(0, after), dialect.inBandError()],
          headers,
          0,
          'end',
        )
        return
      case 'no-terminal': {
        const { events, terminalEvents } = streamed()
        writeStream(res, route, events.slice(0, events.length - terminalEvents), headers, 0, 'end')
        return
      }
      default:
        reply.fault satisfies never
    }
  }

  type DialectStreamEvents = ReturnType<Dialect['stream']>

  function serveRaw(res: ServerResponse, reply: RawReply, headers: Record<string, string>): void {
    const { status = 200, body } = reply.raw
    const rawHeaders = { ...headers, ...reply.raw.headers }
    if (typeof body === 'string') {
      res.writeHead(status, rawHeaders)
      res.end(body)
      return
    }
    res.writeHead(status, rawHeaders)
    let i = 0
    const next = (): void => {
      if (res.destroyed) return
      const piece = body[i++]
      if (piece === undefined) {
        res.end()
        return
      }
      const write = (): void => {
        if (res.destroyed) return
        res.write(piece.data)
        next()
      }
      if (piece.delayMs !== undefined && piece.delayMs > 0) later(piece.delayMs, write)
      else write()
    }
    next()
  }

  /**
   * Writes a stream's events, each `delayMs` after the last, then ends,
   * drops or stalls the connection. SSE unless the route asks for Gemini's
   * JSON array (`[` first, `,\r\n` between the events' data, `]` once ended).
   */
  function writeStream(
    res: ServerResponse,
    route: DialectRoute,
    events: readonly SseEvent[],
    headers: Record<string, string>,
    delayMs: number,
    ending: 'end' | 'destroy' | 'stall',
  ): void {
    const array = route.streamFraming === 'json-array'
    res.writeHead(200, {
      ...headers,
      'content-type': array
        ? 'application/json; charset=UTF-8'
        : 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    })
    res.flushHeaders()
    let i = 0
    const next = (): void => {
      if (res.destroyed) return
      const event = events[i++]
      if (event === undefined) {
        if (ending === 'end') res.end(array ? (i === 1 ? '[]' : ']') : undefined)
        else if (ending === 'destroy') later(5, () => res.socket?.destroy())
        return
      }
      if (array) res.write(`${i === 1 ? '[' : ',\r\n'}${event.data}`)
      else res.write(formatSseEvent(event, { lineEnding: dialect.sseLineEnding }))
      if (delayMs > 0) later(delayMs, next)
      else next()
    }
    next()
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(model, ...replies) {
      perModel.set(model, checkReplies(replies, `script(${JSON.stringify(model)})`))
      counts.delete(model)
    },
    respondAll(...replies) {
      everyModel = checkReplies(replies, 'respondAll()')
      counts.clear()
    },
    reset() {
      perModel.clear()
      everyModel = toList(options.respond, 'respond')
      counts.clear()
      requests.length = 0
      done.clear()
    },
    settled(index) {
      const record = requests[index]
      if (record !== undefined && done.has(index)) return Promise.resolve(record)
      return new Promise((resolve) => {
        const list = waiters.get(index) ?? []
        list.push(resolve)
        waiters.set(index, list)
      })
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await closed
    },
  }
}

function toList(respond: Reply | readonly Reply[] | undefined, path: string): readonly Reply[] {
  if (respond === undefined) return [defaultAnswer]
  return checkReplies(Array.isArray(respond) ? respond : [respond as Reply], path)
}

function parseBody(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}
