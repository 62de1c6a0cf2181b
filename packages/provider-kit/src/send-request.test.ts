import type { UnderstudyError } from '@understudy/core'
import { startFakeOpenAI } from '@understudy/testkit'
import { Agent, buildConnector } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type SendRequestOptions, sendRequest } from './send-request.js'
import {
  chatRequest,
  readAll,
  rejection,
  secretKey,
  secretQuery,
  startFake as start,
} from './test-support/send-setup.js'
import { waitFor } from './test-support/wait-for.js'

function expectNoSecrets(error: UnderstudyError): void {
  const shown = `${error.message}\n${JSON.stringify(error)}`
  expect(shown).not.toContain(secretKey)
  expect(shown).not.toContain(secretQuery)
  expect(shown).not.toContain('?')
}

/** Both transports, so each behaviour is proven for undici and for fetch. */
const transports: readonly [string, Partial<SendRequestOptions>][] = [
  ['undici.request', {}],
  ['fetch', { transport: 'fetch' }],
]

describe.each(transports)('sendRequest over %s', (_name, transport) => {
  it('resolves with the status, lower-case headers and the JSON body', async () => {
    const server = await start()
    server.script('m', { text: 'hello there', headers: { 'X-Custom-Thing': 'yes' } })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    expect(response.status).toBe(200)
    expect(response.headers['content-type']).toBe('application/json')
    expect(response.headers['x-custom-thing']).toBe('yes')
    expect(response.headers['x-request-id']).toMatch(/^req_/)
    const body = (await response.json()) as { choices: { message: { content: string } }[] }
    expect(body.choices[0]?.message.content).toBe('hello there')
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${secretKey}`)
    expect(server.requests[0]?.query.key).toBe(secretQuery)
  })

  it('resolves a 429 like a 200: judging the status is the caller’s job', async () => {
    const server = await start({ respond: { status: 429, retryAfter: '2' } })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    expect(response.status).toBe(429)
    expect(response.headers['retry-after']).toBe('2')
    expect(await response.text()).toContain('rate_limit_exceeded')
  })

  it('hands the body over chunk by chunk as it arrives', async () => {
    const server = await start()
    server.script('m', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        body: [{ data: 'data: one\n\n' }, { data: 'data: two\n\n', delayMs: 5 }],
      },
    })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    expect(await readAll(response.body)).toBe('data: one\n\ndata: two\n\n')
  })

  it('maps a connection the server closed before answering to kind network', async () => {
    const server = await start({ respond: { fault: 'drop' } })
    const error = await rejection(sendRequest(chatRequest(server, 'm', transport)))
    expect(error.kind).toBe('network')
    expectNoSecrets(error)
    expect(error.message).toContain(`${server.url}/v1/chat/completions`)
  })

  it('maps a refused connection to kind network', async () => {
    const server = await startFakeOpenAI()
    const url = server.url
    await server.close()
    const error = await rejection(
      sendRequest({ ...chatRequest(server, 'm', transport), url: `${url}/v1/chat/completions` }),
    )
    expect(error.kind).toBe('network')
    expect(error.message).toContain('connection refused')
  })

  it('maps a body cut mid-way to kind network when it is read', async () => {
    const server = await start({ respond: { fault: 'drop-mid-body' } })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    expect(response.status).toBe(200)
    const error = await rejection(response.text())
    expect(error.kind).toBe('network')
    expectNoSecrets(error)
  })

  it('rejects with kind aborted, the reason as cause, when aborted before the headers; the server sees the connection closed', async () => {
    const server = await start({ respond: { fault: 'hang' } })
    const controller = new AbortController()
    const pending = sendRequest(
      chatRequest(server, 'm', { ...transport, signal: controller.signal }),
    )
    await waitFor(() => server.requests.length === 1)
    const reason = new Error('caller gave up')
    controller.abort(reason)
    const error = await rejection(pending)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expectNoSecrets(error)
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('rejects the body read with kind aborted when aborted after the headers; the server sees the connection closed', async () => {
    const server = await start()
    server.script('m', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        body: [{ data: 'data: first\n\n' }, { data: 'data: never\n\n', delayMs: 60_000 }],
      },
    })
    const controller = new AbortController()
    const response = await sendRequest(
      chatRequest(server, 'm', { ...transport, signal: controller.signal }),
    )
    const iterator = response.body[Symbol.asyncIterator]()
    expect((await iterator.next()).done).toBe(false)
    const reading = iterator.next()
    controller.abort()
    const error = await rejection(reading)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(controller.signal.reason)
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('rejects at once with kind aborted when the signal was already aborted, sending nothing', async () => {
    const server = await start()
    const error = await rejection(
      sendRequest(chatRequest(server, 'm', { ...transport, signal: AbortSignal.abort() })),
    )
    expect(error.kind).toBe('aborted')
    expect(server.requests).toHaveLength(0)
  })

  it('closes the connection when the body is cancelled before its end', async () => {
    const server = await start()
    server.script('m', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        body: [{ data: 'data: first\n\n' }, { data: 'data: never\n\n', delayMs: 60_000 }],
      },
    })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    await response.cancel()
    await response.cancel()
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('closes the connection when the consumer leaves the chunk loop early', async () => {
    const server = await start()
    server.script('m', {
      raw: {
        headers: { 'content-type': 'text/event-stream' },
        body: [{ data: 'data: first\n\n' }, { data: 'data: never\n\n', delayMs: 60_000 }],
      },
    })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    for await (const _chunk of response.body) break
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('rejects json() of a body that does not parse with kind server', async () => {
    const server = await start({ respond: { fault: 'malformed-json' } })
    const response = await sendRequest(chatRequest(server, 'm', transport))
    const error = await rejection(response.json())
    expect(error.kind).toBe('server')
  })
})

describe('sendRequest over undici', () => {
  it('sends through the dispatcher it is given', async () => {
    const server = await start()
    let connects = 0
    const agent = new Agent({
      connect: (options, callback) => {
        connects++
        return defaultConnector(options, callback)
      },
    })
    onTestFinished(() => agent.close())
    const response = await sendRequest(chatRequest(server, 'm', { dispatcher: agent }))
    await response.text()
    expect(connects).toBe(1)
  })

  it('maps a failed DNS lookup to kind network', async () => {
    const agent = new Agent({
      connect: (_options, callback) => {
        const error = Object.assign(new Error('getaddrinfo ENOTFOUND api.example.invalid'), {
          code: 'ENOTFOUND',
        })
        callback(error, null)
      },
    })
    onTestFinished(() => agent.close())
    const error = await rejection(
      sendRequest({
        url: `http://api.example.invalid/v1/chat?key=${secretQuery}`,
        dispatcher: agent,
        headers: { authorization: `Bearer ${secretKey}` },
      }),
    )
    expect(error.kind).toBe('network')
    expect(error.message).toContain('DNS')
    expectNoSecrets(error)
  })

  it('maps any other failure to kind unknown', async () => {
    const error = await rejection(sendRequest({ url: 'not a url', headers: {} }))
    expect(error.kind).toBe('unknown')
  })

  it('refuses a URL that is not http or https, as undici does', async () => {
    const error = await rejection(sendRequest({ url: 'ftp://127.0.0.1/v1/chat', headers: {} }))
    expect(error.kind).toBe('unknown')
    expect(error.message).toContain('UND_ERR_INVALID_ARG')
  })

  it('sends the path and query of the URL as new URL reads them, without its fragment', async () => {
    const server = await start()
    const url = new URL(server.url)
    const response = await sendRequest({
      url: `http://user@${url.host}/v1/./chat/completions?alt=sse&x=a%20b#part`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    })
    await response.cancel()
    expect(server.requests[0]?.path).toBe('/v1/chat/completions')
    expect(server.requests[0]?.query).toEqual({ alt: 'sse', x: 'a b' })
  })
})

describe('sendRequest over a given fetch', () => {
  it('uses the fetch it is given', async () => {
    const server = await start()
    const seen: string[] = []
    const response = await sendRequest(
      chatRequest(server, 'm', {
        fetch: (url, init) => {
          seen.push(url)
          return fetch(url, init)
        },
      }),
    )
    expect(response.status).toBe(200)
    await response.cancel()
    expect(seen).toEqual([`${server.url}/v1/chat/completions?key=${secretQuery}`])
  })

  it('maps a fetch TypeError with a DNS cause to kind network', async () => {
    const failing = (): Promise<Response> =>
      Promise.reject(new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }))
    const error = await rejection(
      sendRequest({ url: 'https://api.example.invalid/v1', fetch: failing }),
    )
    expect(error.kind).toBe('network')
  })

  it('maps undici’s headers timeout to kind timeout', async () => {
    const failing = (): Promise<Response> =>
      Promise.reject(new TypeError('fetch failed', { cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } }))
    const error = await rejection(
      sendRequest({ url: 'https://api.example.invalid/v1', fetch: failing }),
    )
    expect(error.kind).toBe('timeout')
  })

  it('maps a bare fetch TypeError (no code, as browsers give) to kind network', async () => {
    const failing = (): Promise<Response> => Promise.reject(new TypeError('Failed to fetch'))
    const error = await rejection(
      sendRequest({ url: 'https://api.example.invalid/v1', fetch: failing }),
    )
    expect(error.kind).toBe('network')
  })
})

const defaultConnector = buildConnector({})
