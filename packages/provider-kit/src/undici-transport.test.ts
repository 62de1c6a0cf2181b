import { AsyncLocalStorage } from 'node:async_hooks'
import { createHash } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isUnderstudyError, type UnderstudyError } from '@understudy/core'
import type { FakeServer } from '@understudy/testkit'
import { Agent, type Dispatcher, MockAgent } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  type BodyFlow,
  type BodyListener,
  flowBody,
  type HttpResponse,
  sendRequest,
} from './send-request.js'
import {
  chatRequest,
  readAll,
  rejection,
  secretQuery,
  startFake,
} from './test-support/send-setup.js'
import { waitFor } from './test-support/wait-for.js'

const secretPassword = 'url-password-9d2e'

function scriptFirstChunkThenHang(server: FakeServer, model: string): void {
  server.script(model, {
    raw: {
      headers: { 'content-type': 'text/event-stream' },
      body: [{ data: 'data: first\n\n' }, { data: 'data: never\n\n', delayMs: 60_000 }],
    },
  })
}

const utf8 = new TextDecoder()

/** One turn of the event loop: what undici or a dispatcher scheduled has had its chance to run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Uncaught exceptions and unhandled rejections while the test runs. */
function watchUncaught(): unknown[] {
  const seen: unknown[] = []
  const record = (error: unknown): void => {
    seen.push(error)
  }
  process.on('uncaughtException', record)
  process.on('unhandledRejection', record)
  onTestFinished(() => {
    process.off('uncaughtException', record)
    process.off('unhandledRejection', record)
  })
  return seen
}

/** Gives pending rejections and exceptions the time to be reported as unhandled. */
async function settleUnhandled(): Promise<void> {
  await turn()
  await new Promise((resolve) => setTimeout(resolve, 10))
  await turn()
}

describe('the undici transport through MockAgent', () => {
  const origin = 'http://api.mock.test'

  /** A MockAgent with net connect off, closed when the test ends. */
  function mockAgent(): MockAgent {
    const agent = new MockAgent()
    agent.disableNetConnect()
    onTestFinished(() => agent.close())
    return agent
  }

  // Through the MockAgent, undici's Agent adapts our handler's current API
  // for its pools (UnwrapHandler); its MockPool, given directly, calls the
  // older API (onConnect, onHeaders, onData, onComplete) on our handler.
  const dispatchers: readonly [string, (agent: MockAgent) => Dispatcher][] = [
    ['the MockAgent', (agent) => agent],
    ['its MockPool (the older handler API)', (agent) => agent.get(origin)],
  ]

  describe.each(dispatchers)('given %s as dispatcher', (_name, pick) => {
    it('resolves with the status, lower-case headers and the JSON body, sending what the request holds', async () => {
      const agent = mockAgent()
      const seen: { body?: unknown; headers?: unknown } = {}
      agent
        .get(origin)
        .intercept({ path: '/v1/chat?alt=json', method: 'POST' })
        .reply((options) => {
          seen.body = options.body
          seen.headers = options.headers
          return {
            statusCode: 201,
            data: { id: 'chat-1', ok: true },
            responseOptions: {
              headers: { 'Content-Type': 'application/json', 'X-Trace-Id': 't1' },
            },
          }
        })
      const response = await sendRequest({
        url: `${origin}/v1/chat?alt=json`,
        headers: { 'content-type': 'application/json' },
        body: '{"model":"m"}',
        dispatcher: pick(agent),
      })
      expect(response.status).toBe(201)
      expect(response.headers['content-type']).toBe('application/json')
      expect(response.headers['x-trace-id']).toBe('t1')
      expect(await response.json()).toEqual({ id: 'chat-1', ok: true })
      expect(seen.body).toBe('{"model":"m"}')
      expect(seen.headers).toMatchObject({ 'content-type': 'application/json' })
    })

    it('hands the body over as chunks through response.body', async () => {
      const agent = mockAgent()
      agent
        .get(origin)
        .intercept({ path: '/v1/stream', method: 'POST' })
        .reply(200, 'data: one\n\ndata: two\n\n', {
          headers: { 'content-type': 'text/event-stream' },
        })
      const response = await sendRequest({ url: `${origin}/v1/stream`, dispatcher: pick(agent) })
      expect(response.headers['content-type']).toBe('text/event-stream')
      expect(await readAll(response.body)).toBe('data: one\n\ndata: two\n\n')
    })

    it('maps an error the dispatcher reports before the headers to its kind', async () => {
      const agent = mockAgent()
      agent
        .get(origin)
        .intercept({ path: `/v1/chat?key=${secretQuery}`, method: 'POST' })
        .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      const error = await rejection(
        sendRequest({ url: `${origin}/v1/chat?key=${secretQuery}`, dispatcher: pick(agent) }),
      )
      expect(error.kind).toBe('network')
      expect(error.message).toContain(`${origin}/v1/chat`)
      expect(error.message).not.toContain(secretQuery)
    })
  })
})

/** The older handler API, as an undici 6 dispatcher calls it. */
interface LegacyHandler {
  onConnect(abort: (reason?: Error) => void, context?: unknown): void
  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean
  onData(chunk: Buffer): boolean
  onComplete(trailers: Buffer[] | null): void
  onError(error: Error): void
}

/** A scripted dispatcher speaking only the older handler API, recording what it was asked. */
interface LegacyDispatcher {
  readonly dispatcher: Dispatcher
  /** Chunks handed to `onData` so far. */
  readonly sent: number
  /** True while a `false` from `onData` holds it back and nobody called `resume`. */
  readonly waiting: boolean
  /** True once it called `onComplete` or `onError`. */
  readonly done: boolean
  /** The reasons `abort` was called with. */
  readonly aborts: readonly unknown[]
  /** The options `dispatch` was called with. */
  readonly dispatched: readonly Dispatcher.DispatchOptions[]
  /** True once it called `onConnect`. */
  readonly connected: boolean
  /** Lets the exchange go on past the step it was created to hold at. */
  release(): void
}

/**
 * Answers every request with status 200 and `chunks`, one per event loop
 * turn as a socket would, stopping when `onData` returns `false` until
 * `resume` is called. `abort` reports the reason through `onError`, once.
 * `hold` stops it before `onConnect` or `onHeaders` until `release()`.
 */
function legacyDispatcher(
  chunks: readonly Uint8Array[],
  options: { hold?: 'connect' | 'headers' } = {},
): LegacyDispatcher {
  let sent = 0
  let waiting = false
  let done = false
  let connected = false
  const aborts: unknown[] = []
  const dispatched: Dispatcher.DispatchOptions[] = []
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  if (options.hold === undefined) release()

  async function run(handler: LegacyHandler): Promise<void> {
    let aborted = false
    let wake: (() => void) | undefined
    const abort = (reason?: Error): void => {
      aborts.push(reason)
      if (aborted || done) return
      aborted = true
      done = true
      wake?.()
      release()
      handler.onError(reason ?? new Error('aborted'))
    }
    const resume = (): void => {
      if (!waiting) return
      waiting = false
      wake?.()
    }
    /** Waits until `resume`, or an abort. */
    const held = (): Promise<void> =>
      new Promise<void>((resolve) => {
        waiting = true
        wake = resolve
      })
    await turn()
    if (options.hold === 'connect') await released
    connected = true
    handler.onConnect(abort, null)
    if (aborted) return
    if (options.hold === 'headers') await released
    if (aborted) return
    const rawHeaders = [
      Buffer.from('Content-Type'),
      Buffer.from('text/plain'),
      Buffer.from('X-Older-API'),
      Buffer.from('yes'),
    ]
    if (!handler.onHeaders(200, rawHeaders, resume, 'OK')) await held()
    for (const chunk of chunks) {
      await turn()
      if (aborted) return
      sent++
      if (!handler.onData(Buffer.from(chunk))) await held()
      if (aborted) return
    }
    await turn()
    if (aborted) return
    done = true
    handler.onComplete([])
  }

  const dispatcher = {
    dispatch(dispatchOptions: Dispatcher.DispatchOptions, handler: LegacyHandler): boolean {
      dispatched.push(dispatchOptions)
      void run(handler)
      return true
    },
  } as unknown as Dispatcher

  return {
    dispatcher,
    get sent() {
      return sent
    },
    get waiting() {
      return waiting
    },
    get done() {
      return done
    },
    get connected() {
      return connected
    },
    aborts,
    dispatched,
    release: () => release(),
  }
}

const bulkChunkBytes = 32 * 1024

function textChunks(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => Buffer.from(`chunk-${index};`))
}

const allText = (count: number): string =>
  Array.from({ length: count }, (_, index) => `chunk-${index};`).join('')

/** `count` chunks of 32 KiB, each filled with its own byte, so order shows in the whole. */
function bulkChunks(count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => Buffer.alloc(bulkChunkBytes, index % 251))
}

/**
 * The most a held-back body may run ahead of its reader. The transport's
 * window is smaller (it keeps about two socket reads); a body that is not
 * held back at all runs megabytes ahead.
 */
const aheadLimitBytes = 512 * 1024

/** Runs event loop turns until `condition` holds, for at most 2,000 turns. */
async function turnsUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (condition()) return
    await turn()
  }
  throw new Error('still not true after 2,000 turns')
}

describe('the undici transport over a dispatcher speaking only the older handler API', () => {
  const url = 'http://older.test/v1/chat?alt=sse'

  it('sends the origin, path with query, method, headers and body it was given, and resolves with status and lower-case headers', async () => {
    const legacy = legacyDispatcher(textChunks(2))
    const response = await sendRequest({
      url,
      headers: { authorization: 'Bearer k' },
      body: 'payload',
      dispatcher: legacy.dispatcher,
    })
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('text/plain')
    expect(response.headers['x-older-api']).toBe('yes')
    expect(await response.text()).toBe(allText(2))
    expect(legacy.dispatched).toEqual([
      {
        origin: 'http://older.test',
        path: '/v1/chat?alt=sse',
        method: 'POST',
        headers: { authorization: 'Bearer k' },
        body: 'payload',
      },
    ])
  })

  it('hands a paused flowBody reader nothing more until it resumes, then the rest in order', async () => {
    const legacy = legacyDispatcher(textChunks(12))
    const response = await sendRequest({ url, dispatcher: legacy.dispatcher })
    const received: string[] = []
    let ended = false
    const flow: BodyFlow = flowBody(response, {
      chunk(bytes) {
        received.push(utf8.decode(bytes))
        if (received.length === 1) flow.pause()
      },
      end() {
        ended = true
      },
      error() {},
    })
    // A few small chunks fit in the window: the dispatcher sends them all.
    await turnsUntil(() => legacy.done)
    for (let i = 0; i < 5; i++) await turn()
    expect(received).toEqual(['chunk-0;'])
    expect(ended).toBe(false)
    flow.resume()
    await turnsUntil(() => ended)
    expect(received.join('')).toBe(allText(12))
  })

  it('holds the dispatcher back while a flowBody reader is paused, hands nothing over until it resumes, and every byte in order', async () => {
    const chunks = bulkChunks(64)
    const legacy = legacyDispatcher(chunks)
    const response = await sendRequest({ url, dispatcher: legacy.dispatcher })
    const received: Uint8Array[] = []
    let receivedBytes = 0
    let ended = false
    let failure: UnderstudyError | undefined
    let heldBack = 0
    const flow: BodyFlow = flowBody(response, {
      chunk(bytes) {
        received.push(Buffer.from(bytes))
        receivedBytes += bytes.byteLength
        flow.pause()
      },
      end() {
        ended = true
      },
      error(error) {
        failure = error
      },
    })
    while (!ended && failure === undefined) {
      await turnsUntil(() => legacy.waiting || legacy.done)
      if (legacy.waiting) heldBack++
      // Paused: nothing more reaches the reader, however long it waits.
      const before = received.length
      for (let i = 0; i < 5; i++) await turn()
      expect(received).toHaveLength(before)
      expect(legacy.sent * bulkChunkBytes - receivedBytes).toBeLessThanOrEqual(aheadLimitBytes)
      flow.resume()
    }
    expect(failure).toBeUndefined()
    expect(heldBack).toBeGreaterThan(0)
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true)
  })

  it('holds the dispatcher back while a slow response.body loop waits, and yields every byte in order', async () => {
    const chunks = bulkChunks(64)
    const legacy = legacyDispatcher(chunks)
    const response = await sendRequest({ url, dispatcher: legacy.dispatcher })
    const received: Uint8Array[] = []
    let receivedBytes = 0
    let mostAheadBytes = 0
    let heldBack = 0
    for await (const chunk of response.body) {
      received.push(Buffer.from(chunk))
      receivedBytes += chunk.byteLength
      for (let i = 0; i < 5; i++) await turn()
      if (legacy.waiting) heldBack++
      mostAheadBytes = Math.max(mostAheadBytes, legacy.sent * bulkChunkBytes - receivedBytes)
    }
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true)
    expect(heldBack).toBeGreaterThan(0)
    expect(mostAheadBytes).toBeLessThanOrEqual(aheadLimitBytes)
  })

  it('holds the dispatcher back while nobody reads the body, and text() then gets all of it', async () => {
    const chunks = bulkChunks(64)
    const legacy = legacyDispatcher(chunks)
    const response = await sendRequest({ url, dispatcher: legacy.dispatcher })
    await turnsUntil(() => legacy.waiting || legacy.done)
    expect(legacy.done).toBe(false)
    expect(legacy.sent * bulkChunkBytes).toBeLessThanOrEqual(aheadLimitBytes)
    const text = await response.text()
    expect(text).toBe(Buffer.concat(chunks).toString('utf8'))
    expect(legacy.done).toBe(true)
  })

  it('calls the abort it was given on connect when the caller aborts before the headers', async () => {
    const legacy = legacyDispatcher(textChunks(2), { hold: 'headers' })
    const controller = new AbortController()
    const pending = sendRequest({ url, dispatcher: legacy.dispatcher, signal: controller.signal })
    await turnsUntil(() => legacy.connected)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    const error = await rejection(pending)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expect(legacy.aborts).toEqual([reason])
  })

  it('calls the abort it was given on connect when the caller aborts while the body is read, and rejects the read', async () => {
    const legacy = legacyDispatcher(textChunks(10))
    const controller = new AbortController()
    const response = await sendRequest({
      url,
      dispatcher: legacy.dispatcher,
      signal: controller.signal,
    })
    const iterator = response.body[Symbol.asyncIterator]()
    expect((await iterator.next()).done).toBe(false)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    const error = await rejection(iterator.next())
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expect(legacy.aborts).toEqual([reason])
    const sentAtAbort = legacy.sent
    for (let i = 0; i < 5; i++) await turn()
    expect(legacy.sent).toBe(sentAtAbort)
  })

  it('calls the abort on connect at once when the caller aborted before the dispatcher connected', async () => {
    const legacy = legacyDispatcher(textChunks(2), { hold: 'connect' })
    const controller = new AbortController()
    const pending = sendRequest({ url, dispatcher: legacy.dispatcher, signal: controller.signal })
    await turnsUntil(() => legacy.dispatched.length === 1)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    const error = await rejection(pending)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expect(legacy.aborts).toEqual([])
    legacy.release()
    await turnsUntil(() => legacy.connected)
    expect(legacy.aborts).toEqual([reason])
    for (let i = 0; i < 5; i++) await turn()
    expect(legacy.sent).toBe(0)
  })
})

describe('the undici transport and AsyncLocalStorage', () => {
  it('keeps each caller’s store across await sendRequest, await json(), and inside a for await over the body', async () => {
    const server = await startFake()
    server.script('sse', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        body: [
          { data: 'data: one\n\n' },
          { data: 'data: two\n\n', delayMs: 5 },
          { data: 'data: three\n\n', delayMs: 5 },
        ],
      },
    })
    const storage = new AsyncLocalStorage<{ call: string }>()
    /** Two calls at once, each in its own store, on the same pool. */
    const call = (store: { call: string }): Promise<unknown[]> =>
      storage.run(store, async () => {
        const seen: unknown[] = []
        const first = await sendRequest(chatRequest(server, 'json'))
        seen.push(storage.getStore())
        await first.json()
        seen.push(storage.getStore())
        const second = await sendRequest(chatRequest(server, 'sse'))
        seen.push(storage.getStore())
        for await (const _chunk of second.body) seen.push(storage.getStore())
        seen.push(storage.getStore())
        return seen
      })
    const storeA = { call: 'a' }
    const storeB = { call: 'b' }
    const [seenA, seenB] = await Promise.all([call(storeA), call(storeB)])
    // Three awaits, at least two chunks, and after the loop.
    expect(seenA.length).toBeGreaterThanOrEqual(6)
    expect(seenB.length).toBeGreaterThanOrEqual(6)
    for (const current of seenA) expect(current).toBe(storeA)
    for (const current of seenB) expect(current).toBe(storeB)
    expect(storage.getStore()).toBeUndefined()
  })
})

/** A plain HTTP server on 127.0.0.1 sending `total` bytes in 64 KiB pieces, waiting for 'drain'. */
interface BulkServer {
  readonly url: string
  /** Bytes handed to `response.write` so far (the socket's buffers hold most of them). */
  readonly written: number
  /** True once the server wrote the whole body. */
  readonly finished: boolean
  /** Resolves when the response's connection closes; `early` when the body was not all written. */
  readonly closed: Promise<{ early: boolean }>
  /** SHA-256 of the whole body, hex. */
  readonly digest: string
}

const pieceBytes = 64 * 1024

function pieceAt(index: number): Buffer {
  return Buffer.alloc(pieceBytes, index % 251)
}

async function startBulkServer(total: number): Promise<BulkServer> {
  let written = 0
  let finished = false
  let reportClose: (closed: { early: boolean }) => void = () => {}
  const closed = new Promise<{ early: boolean }>((resolve) => {
    reportClose = resolve
  })
  const hash = createHash('sha256')
  for (let index = 0; index * pieceBytes < total; index++) hash.update(pieceAt(index))
  const server = createServer((request, response: ServerResponse) => {
    request.resume()
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(total),
    })
    response.on('close', () => reportClose({ early: !response.writableFinished }))
    let index = 0
    const write = (): void => {
      while (written < total) {
        const piece = pieceAt(index++)
        written += piece.byteLength
        if (!response.write(piece)) {
          response.once('drain', write)
          return
        }
      }
      finished = true
      response.end()
    }
    write()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/bulk`,
    get written() {
      return written
    },
    get finished() {
      return finished
    },
    closed,
    digest: hash.digest('hex'),
  }
}

/**
 * Waits until the server has written nothing more for 200 ms (the client
 * holds it back), or has written everything (nothing held it back).
 */
async function waitForServerStall(server: BulkServer): Promise<void> {
  let last = -1
  let still = 0
  for (let i = 0; i < 500 && !server.finished; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    still = server.written === last ? still + 1 : 0
    last = server.written
    if (still >= 10) return
  }
}

function ownAgent(): Agent {
  const agent = new Agent()
  onTestFinished(() => agent.destroy())
  return agent
}

describe('the undici transport holding a large body back over a real socket', () => {
  // Far more than loopback socket buffers hold (a few MB each way).
  const total = 48 * 1024 * 1024

  it('stops reading the socket while the body loop waits, then delivers every byte', async () => {
    const server = await startBulkServer(total)
    const response = await sendRequest({ url: server.url, dispatcher: ownAgent() })
    expect(response.status).toBe(200)
    const iterator = response.body[Symbol.asyncIterator]()
    const first = await iterator.next()
    expect(first.done).toBe(false)
    const hash = createHash('sha256')
    let received = 0
    if (first.done !== true) {
      hash.update(first.value)
      received += first.value.byteLength
    }
    await waitForServerStall(server)
    expect(server.finished).toBe(false)
    expect(server.written).toBeLessThan(total / 2)
    for (;;) {
      const next = await iterator.next()
      if (next.done === true) break
      hash.update(next.value)
      received += next.value.byteLength
    }
    expect(received).toBe(total)
    expect(hash.digest('hex')).toBe(server.digest)
    expect(await server.closed).toEqual({ early: false })
  })

  it('stops reading the socket while nobody reads the body, and cancel() closes the connection', async () => {
    const server = await startBulkServer(total)
    const response = await sendRequest({ url: server.url, dispatcher: ownAgent() })
    expect(response.status).toBe(200)
    await waitForServerStall(server)
    expect(server.finished).toBe(false)
    expect(server.written).toBeLessThan(total / 2)
    await response.cancel()
    expect(await server.closed).toEqual({ early: true })
  })
})

describe('the undici transport body, read once', () => {
  type Read = (response: HttpResponse) => Promise<unknown>
  const firsts: readonly [string, Read][] = [
    ['text()', (response) => response.text()],
    ['json()', (response) => response.json()],
    ['cancel()', (response) => response.cancel()],
    ['the body loop', (response) => readAll(response.body)],
  ]
  const seconds: readonly [string, Read][] = [
    ['text()', (response) => response.text()],
    ['the body loop', (response) => readAll(response.body)],
  ]
  const cases = firsts.flatMap(([first, read]) =>
    seconds.map(([second, readAgain]) => [second, first, read, readAgain] as const),
  )

  it.each(cases)(
    'refuses %s after %s with kind unknown, naming no query string',
    async (_second, _first, read, readAgain) => {
      const server = await startFake()
      const response = await sendRequest(chatRequest(server, 'm'))
      await read(response)
      const error = await rejection(readAgain(response))
      expect(error.kind).toBe('unknown')
      expect(error.message).toContain(`POST ${server.url}/v1/chat/completions`)
      expect(error.message).not.toContain('?')
      expect(error.message).not.toContain(secretQuery)
    },
  )

  it('refuses a second text() with a message that names no password of the URL', async () => {
    const server = await startFake()
    const host = new URL(server.url).host
    const response = await sendRequest(
      chatRequest(server, 'm', {
        url: `http://user:${secretPassword}@${host}/v1/chat/completions?key=${secretQuery}`,
      }),
    )
    await response.text()
    const error = await rejection(response.text())
    expect(error.kind).toBe('unknown')
    expect(error.message).not.toContain(secretPassword)
    expect(error.message).not.toContain(secretQuery)
  })

  it('leaves the first flowBody reader alone when a refused second one cancels', async () => {
    const legacy = legacyDispatcher(textChunks(6))
    const response = await sendRequest({
      url: 'http://older.test/v1',
      dispatcher: legacy.dispatcher,
    })
    const received: string[] = []
    let ended = false
    flowBody(response, {
      chunk(bytes) {
        received.push(utf8.decode(bytes))
      },
      end() {
        ended = true
      },
      error() {},
    })
    const errors: UnderstudyError[] = []
    const second = flowBody(response, {
      chunk() {},
      end() {},
      error(error) {
        errors.push(error)
      },
    })
    await turnsUntil(() => errors.length > 0)
    expect(errors[0]?.kind).toBe('unknown')
    await second.cancel()
    await turnsUntil(() => ended || legacy.done)
    expect(legacy.aborts).toEqual([])
    expect(ended).toBe(true)
    expect(received.join('')).toBe(allText(6))
  })
})

describe('a body cancelled while a read waits, over either transport', () => {
  const pendingReads: readonly [string, string, (response: HttpResponse) => Promise<unknown>][] = [
    ['undici', 'text()', (response) => response.text()],
    ['undici', 'body loop read', (response) => readAll(response.body)],
    ['fetch', 'text()', (response) => response.text()],
    ['fetch', 'body loop read', (response) => readAll(response.body)],
  ]

  it.each(pendingReads)(
    'fails a %s %s still waiting with kind aborted, and closes the connection',
    async (transport, _name, read) => {
      const server = await startFake()
      scriptFirstChunkThenHang(server, 'm')
      const response = await sendRequest(
        chatRequest(server, 'm', transport === 'fetch' ? { transport: 'fetch' } : {}),
      )
      const settled: { outcome?: 'resolved' | 'rejected'; failure?: unknown } = {}
      void read(response).then(
        () => {
          settled.outcome = 'resolved'
        },
        (error: unknown) => {
          settled.outcome = 'rejected'
          settled.failure = error
        },
      )
      await turn()
      await response.cancel()
      expect((await server.settled(0)).closedEarly).toBe(true)
      await waitFor(() => settled.outcome !== undefined)
      expect(settled.outcome).toBe('rejected')
      expect(isUnderstudyError(settled.failure) && settled.failure.kind).toBe('aborted')
    },
  )
})

describe('flowBody over the undici transport', () => {
  it('gives a listener whose chunk() throws an error of kind unknown, once, and closes the connection', async () => {
    const uncaught = watchUncaught()
    const server = await startFake()
    server.script('m', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        // Sent once flowBody listens: the throw comes inside undici's parser.
        body: [
          { data: 'data: first\n\n', delayMs: 20 },
          { data: 'data: never\n\n', delayMs: 60_000 },
        ],
      },
    })
    const response = await sendRequest(chatRequest(server, 'm'))
    const heard: string[] = []
    const errors: UnderstudyError[] = []
    const thrown = new Error('listener broke')
    const listener: BodyListener = {
      chunk() {
        heard.push('chunk')
        throw thrown
      },
      end() {
        heard.push('end')
      },
      error(error) {
        heard.push('error')
        errors.push(error)
      },
    }
    flowBody(response, listener)
    await waitFor(() => heard.length > 0 && heard.at(-1) === 'error')
    expect((await server.settled(0)).closedEarly).toBe(true)
    await settleUnhandled()
    expect(heard).toEqual(['chunk', 'error'])
    expect(errors[0]?.kind).toBe('unknown')
    expect(errors[0]?.cause).toBe(thrown)
    expect(uncaught).toEqual([])
  })
})

describe('the undici transport waiting for a connection', () => {
  it('rejects at once with kind aborted when aborted while queued, and never sends that request', async () => {
    const uncaught = watchUncaught()
    const server = await startFake()
    scriptFirstChunkThenHang(server, 'hold')
    const agent = new Agent({ connections: 1 })
    onTestFinished(() => agent.destroy())
    // The first response's body is left unread: it holds the only connection.
    const first = await sendRequest(chatRequest(server, 'hold', { dispatcher: agent }))
    expect(first.status).toBe(200)
    const controller = new AbortController()
    const queued = sendRequest(
      chatRequest(server, 'queued', { dispatcher: agent, signal: controller.signal }),
    )
    await turn()
    const reason = new Error('caller gave up')
    controller.abort(reason)
    const error = await rejection(queued)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expect(server.requests.map((request) => request.model)).toEqual(['hold'])
    // Once the connection is free, the aborted request is skipped and the next one goes out.
    await first.cancel()
    const third = await sendRequest(chatRequest(server, 'after', { dispatcher: agent }))
    expect(third.status).toBe(200)
    await third.text()
    expect(server.requests.map((request) => request.model)).toEqual(['hold', 'after'])
    await settleUnhandled()
    expect(uncaught).toEqual([])
  })
})
