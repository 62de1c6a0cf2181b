import { readFile } from 'node:fs/promises'
import { isUnderstudyError } from '@understudy/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServerOptions } from './fake-server.js'
import { startFakeAnthropic } from './start-fake-anthropic.js'

const fixture = (name: string): Promise<string> =>
  readFile(new URL(`../../../fixtures/anthropic/${name}`, import.meta.url), 'utf8')
const fixtureJson = async (name: string): Promise<unknown> => JSON.parse(await fixture(name))

async function start(options?: FakeServerOptions) {
  const server = await startFakeAnthropic(options)
  onTestFinished(() => server.close())
  return server
}

/** A Messages API call as a client sends it. */
function post(
  url: string,
  body: Record<string, unknown>,
  init: { readonly signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': 'key-a',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hi' }],
      ...body,
    }),
    ...init,
  })
}

interface ParsedEvent {
  readonly event: string | undefined
  readonly data: unknown
}

/** Parses an SSE body: `event:` and `data:` fields, events split on blank lines. */
function parseSse(text: string): ParsedEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/)
      const event = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim()
      const data = lines
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n')
      return { event, data: JSON.parse(data) }
    })
}

/** The field names of a JSON value, nested: what "the same shape" compares. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf)
  if (typeof value !== 'object' || value === null) return typeof value
  return Object.fromEntries(
    Object.entries(value)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, inner]) => [key, shapeOf(inner)]),
  )
}

/** The event names, with runs of `content_block_delta` counted once (streams split text differently). */
function sequenceOf(events: readonly ParsedEvent[]): (string | undefined)[] {
  return events
    .map((event) => event.event)
    .filter((name, index, names) => name !== 'content_block_delta' || names[index - 1] !== name)
}

function field(value: unknown, ...path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (inner, key) =>
      typeof inner === 'object' && inner !== null ? Reflect.get(inner, key) : undefined,
    value,
  )
}

describe('startFakeAnthropic', () => {
  it('serves POST /v1/messages and logs each request with its headers and body', async () => {
    const server = await start()
    const response = await post(server.url, { model: 'claude-sonnet-4-5' })

    expect(response.status).toBe(200)
    expect(response.headers.get('request-id')).toMatch(/^req_011C[1-9A-Za-z]{20}$/)
    expect(response.headers.get('anthropic-organization-id')).toBe(
      '00000000-0000-0000-0000-000000000000',
    )
    const [request] = server.requests
    expect(request).toMatchObject({
      index: 0,
      method: 'POST',
      path: '/v1/messages',
      model: 'claude-sonnet-4-5',
      stream: false,
      body: { model: 'claude-sonnet-4-5', max_tokens: 256 },
    })
    expect(request?.headers['x-api-key']).toBe('key-a')
    expect(request?.headers['anthropic-version']).toBe('2023-06-01')
  })

  it('answers 404 to a path the Messages API does not have', async () => {
    const server = await start()
    const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST' })
    expect(response.status).toBe(404)
    expect((await fetch(`${server.url}/v1/messages`)).status).toBe(404)
  })

  it('follows each model its own script, the last reply repeating', async () => {
    const server = await start()
    server.script('claude-a', { text: 'first' }, { text: 'second' })
    server.script('claude-b', { status: 429 })

    const texts = []
    for (let i = 0; i < 3; i++) {
      const body = await (await post(server.url, { model: 'claude-a' })).json()
      texts.push(field(body, 'content', 0, 'text'))
    }
    expect(texts).toEqual(['first', 'second', 'second'])
    expect((await post(server.url, { model: 'claude-b' })).status).toBe(429)
  })

  it('gives a model nobody scripted a short successful answer', async () => {
    const server = await start()
    server.script('claude-a', { status: 500 })
    const response = await post(server.url, { model: 'claude-unscripted' })
    const body = await response.json()
    expect(response.status).toBe(200)
    expect(field(body, 'stop_reason')).toBe('end_turn')
    expect(field(body, 'content', 0, 'text')).toEqual(expect.any(String))
  })

  describe('answers', () => {
    it('shapes a text answer like message-text.json', async () => {
      const server = await start({
        respond: { text: 'Hello!', usage: { inputTokens: 12, outputTokens: 29 } },
      })
      const response = await post(server.url, { model: 'claude-sonnet-4-5-20250929' })
      const body = await response.json()

      expect(response.headers.get('content-type')).toBe('application/json')
      expect(shapeOf(body)).toEqual(shapeOf(await fixtureJson('message-text.json')))
      expect(body).toMatchObject({
        model: 'claude-sonnet-4-5-20250929',
        type: 'message',
        role: 'assistant',
        content: [{ type: 'text', text: 'Hello!' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 29, service_tier: 'standard' },
      })
      expect(field(body, 'id')).toMatch(/^msg_01[1-9A-Za-z]{22}$/)
    })

    it('shapes a tool call like message-tool-use.json, its input parsed from the arguments', async () => {
      const server = await start({
        respond: { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      })
      const body = await (await post(server.url, { model: 'claude-sonnet-4-5' })).json()
      const recorded = await fixtureJson('message-tool-use.json')

      expect(shapeOf(field(body, 'content'))).toEqual(shapeOf(field(recorded, 'content')))
      expect(field(body, 'content', 0)).toEqual({
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_01[1-9A-Za-z]{22}$/),
        name: 'get_weather',
        input: { city: 'Paris' },
      })
      expect(field(body, 'stop_reason')).toBe('tool_use')
      // Every field the recording has, ours has too (ours adds `inference_geo`, as message-text.json).
      expect(shapeOf(body)).toMatchObject(shapeOf(recorded) as object)
    })

    it('puts text before tool_use, like message-text-and-tool-use.json', async () => {
      const server = await start({
        respond: {
          text: 'Okay, I will update the current issue list:',
          toolCalls: [
            { id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', name: 'updateIssueList', arguments: '{}' },
          ],
        },
      })
      const body = await (await post(server.url, { model: 'claude-3-opus-20240229' })).json()
      const recorded = await fixtureJson('message-text-and-tool-use.json')

      expect(shapeOf(field(body, 'content'))).toEqual(shapeOf(field(recorded, 'content')))
      expect(field(body, 'content', 1)).toEqual(field(recorded, 'content', 1))
      expect(field(body, 'stop_reason')).toBe(field(recorded, 'stop_reason'))
    })

    it.each([
      ['stop', 'end_turn'],
      ['length', 'max_tokens'],
      ['tool_calls', 'tool_use'],
      ['content_filter', 'refusal'],
      ['other', 'pause_turn'],
    ] as const)('maps finish reason %s to stop_reason %s', async (finishReason, stopReason) => {
      const server = await start({ respond: { text: 'Partial', finishReason } })
      const body = await (await post(server.url, { model: 'claude-sonnet-4-5' })).json()
      expect(field(body, 'stop_reason')).toBe(stopReason)
    })

    it('sends reasoning as a signed thinking block before the text', async () => {
      const server = await start({ respond: { reasoning: 'Two plus two.', text: '4' } })
      const body = await (await post(server.url, { model: 'claude-sonnet-4-5' })).json()
      expect(field(body, 'content')).toEqual([
        { type: 'thinking', thinking: 'Two plus two.', signature: expect.any(String) },
        { type: 'text', text: '4' },
      ])
      expect(field(body, 'content', 0, 'signature')).not.toBe('')
    })
  })

  describe('streams', () => {
    it('frames a text stream like stream-text.sse: the same events and fields', async () => {
      const server = await start({
        respond: { text: '2', usage: { inputTokens: 20, outputTokens: 5 } },
      })
      const response = await post(server.url, { model: 'claude-sonnet-4-5-20250929', stream: true })
      const text = await response.text()
      const events = parseSse(text)
      const recorded = parseSse(await fixture('stream-text.sse'))

      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      expect(text).toMatch(/event: message_stop\ndata: \{"type":"message_stop"\}\n\n$/)
      expect(events.map((event) => event.event)).toEqual(recorded.map((event) => event.event))
      expect(events.map((event) => shapeOf(event.data))).toEqual(
        recorded.map((event) => shapeOf(event.data)),
      )
      for (const event of events) expect(field(event.data, 'type')).toBe(event.event)
      expect(field(events[5]?.data, 'delta', 'stop_reason')).toBe('end_turn')
      expect(field(events[5]?.data, 'usage', 'output_tokens')).toBe(5)
    })

    it('streams text in the scripted pieces', async () => {
      const server = await start({ respond: { text: 'Hello there', chunks: ['Hel', 'lo there'] } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
      const deltas = parseSse(await response.text())
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => field(event.data, 'delta'))
      expect(deltas).toEqual([
        { type: 'text_delta', text: 'Hel' },
        { type: 'text_delta', text: 'lo there' },
      ])
    })

    it('streams a tool call like stream-tool-use.reconstructed.sse, its input in JSON fragments', async () => {
      const args = '{"elements": [{"location": "San Francisco", "temperature": 58}]}'
      const server = await start({ respond: { toolCalls: [{ name: 'json', arguments: args }] } })
      const response = await post(server.url, { model: 'claude-haiku-4-5-20251001', stream: true })
      const events = parseSse(await response.text())
      const recorded = parseSse(await fixture('stream-tool-use.reconstructed.sse'))

      expect(sequenceOf(events)).toEqual(sequenceOf(recorded))
      const shapes = (list: readonly ParsedEvent[]) => [
        ...new Set(list.slice(1).map((event) => JSON.stringify(shapeOf(event.data)))),
      ]
      expect(shapes(events)).toEqual(shapes(recorded))
      // The recording's message_start lacks `inference_geo`, which newer ones (stream-text.sse) have.
      expect(shapeOf(events[0]?.data)).toMatchObject(shapeOf(recorded[0]?.data) as object)
      const fragments = events
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => field(event.data, 'delta'))
      expect(fragments[0]).toEqual({ type: 'input_json_delta', partial_json: '' })
      expect(fragments.length).toBeGreaterThan(2)
      expect(fragments.map((delta) => field(delta, 'partial_json')).join('')).toBe(args)
      expect(field(events.at(-2)?.data, 'delta', 'stop_reason')).toBe('tool_use')
    })

    it('streams reasoning as thinking_delta events, then its signature', async () => {
      const server = await start({ respond: { reasoning: 'Two plus two.', text: '4' } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
      const events = parseSse(await response.text())
      expect(field(events[1]?.data, 'content_block')).toEqual({
        type: 'thinking',
        thinking: '',
        signature: '',
      })
      const deltas = events
        .filter(
          (event) => field(event.data, 'index') === 0 && event.event === 'content_block_delta',
        )
        .map((event) => field(event.data, 'delta'))
      expect(deltas.filter((delta) => field(delta, 'type') === 'thinking_delta')).toEqual([
        { type: 'thinking_delta', thinking: 'Two' },
        { type: 'thinking_delta', thinking: ' plus' },
        { type: 'thinking_delta', thinking: ' two.' },
      ])
      expect(deltas.at(-1)).toEqual({ type: 'signature_delta', signature: expect.any(String) })
    })
  })

  describe('faults', () => {
    it('sends an in-band overloaded_error event inside a 200 stream', async () => {
      const server = await start({ respond: { fault: 'in-band-error', afterEvents: 2 } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
      const events = parseSse(await response.text())
      const recorded = parseSse(await fixture('stream-error-overloaded.sse'))

      expect(response.status).toBe(200)
      expect(events.map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
        'error',
      ])
      expect(events.at(-1)).toEqual(recorded[0])
    })

    it('ends a stream without message_stop for no-terminal', async () => {
      const server = await start({ respond: { fault: 'no-terminal' } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
      const names = parseSse(await response.text()).map((event) => event.event)
      expect(names.at(-1)).toBe('message_delta')
      expect(names).not.toContain('message_stop')
    })

    it('drops the connection mid-stream after the first events', async () => {
      const server = await start({ respond: { fault: 'drop-mid-stream', afterEvents: 1 } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
      expect(response.status).toBe(200)
      await expect(response.text()).rejects.toThrow()
    })

    it('stalls a stream after the first events, and logs the client closing it', async () => {
      const server = await start({ respond: { fault: 'stall', afterEvents: 2 } })
      const controller = new AbortController()
      const response = await post(
        server.url,
        { model: 'claude-sonnet-4-5', stream: true },
        { signal: controller.signal },
      )
      const reader = response.body?.getReader()
      if (reader === undefined) throw new Error('no body')
      const decoder = new TextDecoder()
      let text = ''
      while (text.split('\n\n').length <= 2) {
        const { value, done } = await reader.read()
        if (done) throw new Error('the stream ended instead of stalling')
        text += decoder.decode(value)
      }
      expect(parseSse(text).map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
      ])
      const next = reader.read().then(() => 'data')
      const quiet = new Promise((resolve) => setTimeout(resolve, 20, 'nothing'))
      expect(await Promise.race([next, quiet])).toBe('nothing')

      controller.abort()
      await next.catch(() => undefined)
      expect((await server.settled(0)).closedEarly).toBe(true)
    })
  })

  describe('errors', () => {
    it('answers 529 with the recorded overloaded_error body', async () => {
      const server = await start({ respond: { status: 529 } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5' })
      const body = await response.json()
      const recorded = await fixtureJson('error-529-overloaded.json')

      expect(response.status).toBe(529)
      expect(shapeOf(body)).toEqual(shapeOf(recorded))
      expect(body).toEqual({
        ...(recorded as object),
        request_id: expect.stringMatching(/^req_011C/),
      })
    })

    it.each([
      [400, 'error-400-invalid-request.json'],
      [401, 'error-401-authentication.json'],
      [404, 'error-404-not-found.json'],
      [413, 'error-413-request-too-large.json'],
      [429, 'error-429-rate-limit.json'],
    ])('answers %i with the type and message of %s', async (status, name) => {
      const server = await start({ respond: { status } })
      const response = await post(server.url, { model: 'claude-sonet-4-5' })
      const body = await response.json()
      const recorded = await fixtureJson(name)

      expect(response.status).toBe(status)
      expect(field(body, 'error')).toEqual(field(recorded, 'error'))
      expect(field(body, 'type')).toBe(field(recorded, 'type'))
    })

    it.each([
      [403, 'permission_error'],
      [500, 'api_error'],
      [504, 'timeout_error'],
      [418, 'invalid_request_error'],
      [503, 'api_error'],
    ])('answers %i with error type %s', async (status, type) => {
      const server = await start({ respond: { status } })
      const body = await (await post(server.url, { model: 'claude-sonnet-4-5' })).json()
      expect(body).toEqual({
        type: 'error',
        error: { type, message: expect.any(String) },
        request_id: expect.stringMatching(/^req_011C/),
      })
    })

    it('sends the scripted Retry-After header with a 429', async () => {
      const server = await start({ respond: { status: 429, retryAfter: '16' } })
      const response = await post(server.url, { model: 'claude-sonnet-4-5' })
      expect(response.status).toBe(429)
      expect(response.headers.get('retry-after')).toBe('16')
      expect(field(await response.json(), 'error', 'type')).toBe('rate_limit_error')
    })
  })

  it('serves stream-text.sse verbatim as a raw reply', async () => {
    const recorded = await fixture('stream-text.sse')
    const server = await start({
      respond: {
        raw: { headers: { 'content-type': 'text/event-stream; charset=utf-8' }, body: recorded },
      },
    })
    const response = await post(server.url, { model: 'claude-sonnet-4-5', stream: true })
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(await response.text()).toBe(recorded)
  })

  it('throws a ConfigError naming a bad script', async () => {
    const server = await start()
    const bad = { fault: 'explode' } as unknown as { fault: 'drop' }
    let thrown: unknown
    try {
      server.script('claude-sonnet-4-5', { text: 'ok' }, bad)
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'config')).toBe(true)
    expect(String(Reflect.get(thrown as object, 'message'))).toContain(
      'script("claude-sonnet-4-5")[1].fault',
    )
    await expect(startFakeAnthropic({ respond: bad })).rejects.toSatisfy((error) =>
      isUnderstudyError(error, 'config'),
    )
  })
})
