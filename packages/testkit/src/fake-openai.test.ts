import diagnosticsChannel from 'node:diagnostics_channel'
import { readFile } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { ConfigError } from '@understudy/core'
import { Agent, fetch as undiciFetch } from 'undici'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import type { Reply } from './reply.js'
import { startFakeOpenAI } from './start-fake-openai.js'

const fixtureURL = (path: string): URL => new URL(`../../../fixtures/${path}`, import.meta.url)
const readFixture = (path: string): Promise<string> => readFile(fixtureURL(path), 'utf8')
const readFixtureJson = async (path: string): Promise<unknown> =>
  JSON.parse(await readFixture(path))

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

interface PostOptions {
  readonly path?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly signal?: AbortSignal
}

function post(server: FakeServer, body: unknown, options: PostOptions = {}): Promise<Response> {
  return fetch(`${server.url}${options.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
}

const chat = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'What is the capital of Mexico?' }],
  ...extra,
})
const streamed = (model: string): Record<string, unknown> =>
  chat(model, { stream: true, stream_options: { include_usage: true } })

/** The `data:` payloads of an SSE body, event by event. */
function ssePayloads(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n'),
    )
}

type Json = Record<string, unknown>
const chunksOf = (text: string): Json[] =>
  ssePayloads(text)
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as Json)

/** The field names and leaf types of a value, recursively: what "shaped like" means. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null'
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])]
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shapeOf(item)]))
  }
  return typeof value
}

const at = (value: unknown, ...path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? Reflect.get(node, key) : undefined),
    value,
  )

function caught(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** Reads a body until it ends or fails, returning what arrived and how it ended. */
async function readUntilEnd(
  response: Response,
): Promise<{ readonly text: string; readonly failed: boolean }> {
  const reader = response.body?.getReader()
  if (reader === undefined) throw new Error('no body')
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { text, failed: false }
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    return { text, failed: true }
  }
}

describe('startFakeOpenAI', () => {
  describe('routes', () => {
    it('answers POST /v1/chat/completions with a chat.completion shaped like the recorded one', async () => {
      const server = await start()
      server.script('gpt-4.1-nano', {
        text: 'Galaxy Day.',
        usage: { inputTokens: 16, outputTokens: 363 },
      })
      const response = await post(server, chat('gpt-4.1-nano'))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/json')
      const body = await response.json()
      expect(shapeOf(body)).toEqual(
        shapeOf(await readFixtureJson('openai/chat-completion-text.json')),
      )
      expect(body).toMatchObject({
        object: 'chat.completion',
        model: 'gpt-4.1-nano',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Galaxy Day.' },
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 16, completion_tokens: 363, total_tokens: 379 },
        service_tier: 'default',
      })
      expect(at(body, 'id')).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/)
      expect(at(body, 'system_fingerprint')).toMatch(/^fp_/)
    })

    it('answers tool calls like the recorded parallel tool calls, with content null', async () => {
      const server = await start()
      server.script('gpt-4o', {
        toolCalls: [
          {
            id: 'call_jYdIdRZHxZTn5bWCq5jlMrJi',
            name: 'delete_file',
            arguments: '{"path": ".env"}',
          },
          { name: 'create_file', arguments: '{"path": "test.txt"}' },
        ],
      })
      const body = await (await post(server, chat('gpt-4o'))).json()
      expect(shapeOf(body)).toEqual(
        shapeOf(await readFixtureJson('openai/chat-completion-tool-calls.json')),
      )
      expect(at(body, 'choices', 0, 'finish_reason')).toBe('tool_calls')
      expect(at(body, 'choices', 0, 'message', 'content')).toBeNull()
      expect(at(body, 'choices', 0, 'message', 'tool_calls')).toEqual([
        {
          id: 'call_jYdIdRZHxZTn5bWCq5jlMrJi',
          type: 'function',
          function: { name: 'delete_file', arguments: '{"path": ".env"}' },
        },
        {
          id: expect.stringMatching(/^call_[A-Za-z0-9]{24}$/),
          type: 'function',
          function: { name: 'create_file', arguments: '{"path": "test.txt"}' },
        },
      ])
    })

    it('answers a content_filter finish as a 200 with finish_reason content_filter', async () => {
      const server = await start({ respond: { finishReason: 'content_filter' } })
      const response = await post(server, chat('gpt-4o'))
      expect(response.status).toBe(200)
      const body = await response.json()
      expect(at(body, 'choices', 0, 'finish_reason')).toBe('content_filter')
      expect(at(body, 'choices', 0, 'message', 'content')).toBeNull()
    })

    it('takes the model from the deployment on the Azure deployment path', async () => {
      const server = await start()
      const response = await post(server, chat('ignored'), {
        path: '/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21',
        headers: { 'api-key': 'azure-key' },
      })
      expect(response.status).toBe(200)
      const body = await response.json()
      expect(at(body, 'model')).toBe('my-gpt4o')
      // Azure annotates every answer with its content filter's verdicts.
      expect(at(body, 'prompt_filter_results', 0, 'prompt_index')).toBe(0)
      expect(at(body, 'choices', 0, 'content_filter_results', 'hate')).toEqual({
        filtered: false,
        severity: 'safe',
      })
      expect(server.requests[0]).toMatchObject({
        path: '/openai/deployments/my-gpt4o/chat/completions',
        query: { 'api-version': '2024-10-21' },
        model: 'my-gpt4o',
      })
      expect(server.requests[0]?.headers['api-key']).toBe('azure-key')
    })

    it('takes the model from the body on the Azure v1 path', async () => {
      const server = await start()
      const response = await post(server, chat('gpt-4o-deploy'), {
        path: '/openai/v1/chat/completions',
      })
      expect(response.status).toBe(200)
      expect(at(await response.json(), 'model')).toBe('gpt-4o-deploy')
      expect(server.requests[0]?.model).toBe('gpt-4o-deploy')
    })

    it('answers 404 to paths and methods that are not Chat Completions', async () => {
      const server = await start()
      expect((await post(server, chat('gpt-4o'), { path: '/v1/messages' })).status).toBe(404)
      expect((await fetch(`${server.url}/v1/chat/completions`)).status).toBe(404)
      expect(server.requests.map((request) => request.model)).toEqual([undefined, undefined])
    })
  })

  describe('request log', () => {
    it('records method, path, query, headers, parsed body, model and stream', async () => {
      const server = await start()
      await (
        await post(server, streamed('gpt-4o'), {
          path: '/v1/chat/completions?trace=1',
          headers: { authorization: 'Bearer sk-primary', 'x-custom': 'yes' },
        })
      ).text()
      const [request] = server.requests
      expect(request).toMatchObject({
        index: 0,
        method: 'POST',
        path: '/v1/chat/completions',
        query: { trace: '1' },
        body: streamed('gpt-4o'),
        model: 'gpt-4o',
        stream: true,
        closedEarly: false,
      })
      expect(request?.headers.authorization).toBe('Bearer sk-primary')
      expect(request?.headers['x-custom']).toBe('yes')
      await post(server, chat('gpt-4o-mini', { stream: false }))
      expect(server.requests[1]).toMatchObject({ index: 1, model: 'gpt-4o-mini', stream: false })
    })
  })

  describe('scripts', () => {
    it('serves each model its own script, the last reply repeating', async () => {
      const server = await start()
      server.script('gpt-4o', { status: 500 }, { text: 'second' })
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) statuses.push((await post(server, chat('gpt-4o'))).status)
      expect(statuses).toEqual([500, 200, 200])
      const other = await (await post(server, chat('gpt-4o-mini'))).json()
      expect(at(other, 'choices', 0, 'message', 'content')).toBe('Hello from the fake server.')
    })

    it('serves the respond list by request index to every unscripted model', async () => {
      const server = await start({ respond: [{ status: 503 }, { text: 'recovered' }] })
      expect((await post(server, chat('a'))).status).toBe(503)
      const body = await (await post(server, chat('a'))).json()
      expect(at(body, 'choices', 0, 'message', 'content')).toBe('recovered')
      server.respondAll({ status: 401 })
      expect((await post(server, chat('a'))).status).toBe(401)
    })

    it('gives an unscripted model a short successful answer', async () => {
      const server = await start()
      const response = await post(server, chat('never-scripted'))
      expect(response.status).toBe(200)
      expect(at(await response.json(), 'choices', 0, 'message', 'content')).toBe(
        'Hello from the fake server.',
      )
    })
  })

  describe('streams', () => {
    it('streams text like the recorded stream: role chunk, deltas, finish chunk, usage chunk, [DONE]', async () => {
      const server = await start({
        respond: {
          text: 'The capital of Mexico is Mexico City.',
          usage: { inputTokens: 14, outputTokens: 8 },
        },
      })
      const response = await post(server, streamed('gpt-4o'))
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      const text = await response.text()
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
      const chunks = chunksOf(text)
      const recorded = chunksOf(await readFixture('openai/stream-text-with-usage.sse'))
      expect(chunks.map(shapeOf)).toEqual(
        [
          recorded[0],
          ...chunks.slice(1, -2).map(() => recorded[1]),
          recorded.at(-2),
          recorded.at(-1),
        ].map(shapeOf),
      )
      expect(at(chunks[0], 'choices', 0, 'delta')).toEqual({
        role: 'assistant',
        content: '',
        refusal: null,
      })
      const content = chunks
        .map((chunk) => at(chunk, 'choices', 0, 'delta', 'content') ?? '')
        .join('')
      expect(content).toBe('The capital of Mexico is Mexico City.')
      expect(at(chunks[2], 'choices', 0, 'delta', 'content')).toBe(' capital')
      expect(at(chunks.at(-2), 'choices', 0, 'finish_reason')).toBe('stop')
      expect(at(chunks.at(-1), 'choices')).toEqual([])
      expect(at(chunks.at(-1), 'usage')).toMatchObject({
        prompt_tokens: 14,
        completion_tokens: 8,
        total_tokens: 22,
      })
      expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1)
    })

    it('streams the scripted chunks and leaves usage out without include_usage', async () => {
      const server = await start({ respond: { text: 'Hi there', chunks: ['H', 'i there'] } })
      const text = await (await post(server, chat('gpt-4o', { stream: true }))).text()
      const chunks = chunksOf(text)
      expect(chunks.map((chunk) => at(chunk, 'choices', 0, 'delta', 'content'))).toEqual([
        '',
        'H',
        'i there',
        undefined,
      ])
      expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true)
      expect(ssePayloads(text).at(-1)).toBe('[DONE]')
    })

    it('streams tool calls by index: id and name first, then argument fragments', async () => {
      const server = await start({
        respond: {
          toolCalls: [
            {
              id: 'call_Vz0Sie91Ap56nH0ThKGrZXT7',
              name: 'get_weather',
              arguments: '{"city":"Mexico City"}',
            },
            { name: 'get_country', arguments: '{}' },
          ],
        },
      })
      const chunks = chunksOf(await (await post(server, streamed('gpt-4o'))).text())
      const recorded = chunksOf(await readFixture('openai/stream-parallel-tool-calls.sse'))
      const deltas = chunks.flatMap((chunk) => {
        const calls = at(chunk, 'choices', 0, 'delta', 'tool_calls')
        return Array.isArray(calls) ? (calls as Json[]) : []
      })
      expect(shapeOf(chunks[1])).toEqual(shapeOf({ ...recorded[1], usage: null }))
      expect(shapeOf(chunks[2])).toEqual(shapeOf({ ...recorded[2], usage: null }))
      expect(deltas[0]).toEqual({
        index: 0,
        id: 'call_Vz0Sie91Ap56nH0ThKGrZXT7',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      })
      const argumentsOf = (index: number): string =>
        deltas
          .filter((delta) => delta.index === index)
          .map((delta) => at(delta, 'function', 'arguments'))
          .join('')
      expect(argumentsOf(0)).toBe('{"city":"Mexico City"}')
      expect(argumentsOf(1)).toBe('{}')
      expect(deltas.filter((delta) => 'id' in delta).map((delta) => delta.index)).toEqual([0, 1])
      expect(deltas.filter((delta) => delta.index === 0).length).toBeGreaterThan(2)
      expect(at(chunks.at(-2), 'choices', 0, 'finish_reason')).toBe('tool_calls')
    })

    it('opens an Azure stream with a prompt_filter_results chunk', async () => {
      const server = await start()
      const chunks = chunksOf(
        await (
          await post(server, streamed('x'), {
            path: '/openai/deployments/dep/chat/completions?api-version=2024-10-21',
          })
        ).text(),
      )
      expect(chunks[0]).toMatchObject({
        id: '',
        choices: [],
        prompt_filter_results: [{ prompt_index: 0 }],
      })
      expect(at(chunks[1], 'choices', 0, 'delta', 'role')).toBe('assistant')
      expect(at(chunks[1], 'model')).toBe('dep')
    })
  })

  describe('errors', () => {
    const cases: readonly (readonly [number, string])[] = [
      [400, 'invalid_request_error'],
      [401, 'invalid_request_error'],
      [403, 'request_forbidden'],
      [404, 'invalid_request_error'],
      [429, 'tokens'],
      [500, 'server_error'],
      [503, 'server_error'],
    ]
    it.each(cases)("answers %i with OpenAI's body of type %s", async (status, type) => {
      const server = await start({ respond: { status } })
      const response = await post(server, chat('gpt-4o'))
      expect(response.status).toBe(status)
      expect(response.headers.get('content-type')).toBe('application/json')
      const body = await response.json()
      expect(Object.keys(at(body, 'error') as Json).sort()).toEqual([
        'code',
        'message',
        'param',
        'type',
      ])
      expect(at(body, 'error', 'type')).toBe(type)
    })

    it('answers the recorded bodies for 401, 404, 429 and 500, and no context_length_exceeded by default', async () => {
      const server = await start()
      server.script('s401', { status: 401 })
      server.script('gpt-4o', { status: 429 })
      server.script('gpt-5.2-proo', { status: 404 })
      server.script('s500', { status: 500 })
      server.script('s400', { status: 400 })
      const json = async (model: string): Promise<unknown> =>
        (await post(server, chat(model))).json()
      expect(await json('s401')).toEqual(
        await readFixtureJson('openai/error-401-invalid-api-key.json'),
      )
      const limited = await readFixtureJson('openai/error-429-rate-limit-exceeded-tokens.json')
      expect(await json('gpt-4o')).toEqual(limited)
      expect(await json('gpt-5.2-proo')).toEqual(
        await readFixtureJson('openai/error-404-model-not-found.json'),
      )
      expect(await json('s500')).toMatchObject({
        error: { type: 'server_error', code: null, param: null },
      })
      expect(at(await json('s400'), 'error', 'code')).not.toBe('context_length_exceeded')
    })

    it('serves a scripted body instead of the default one', async () => {
      const recorded = await readFixtureJson('openai/error-400-context-length-exceeded.json')
      const server = await start({ respond: { status: 400, body: recorded } })
      expect(await (await post(server, chat('gpt-4o'))).json()).toEqual(recorded)
    })

    it("answers Azure paths with Azure's 401 and 404 bodies", async () => {
      const server = await start()
      server.script('dep401', { status: 401 })
      server.script('dep404', { status: 404 })
      const json = async (deployment: string): Promise<unknown> =>
        (
          await post(server, chat('x'), {
            path: `/openai/deployments/${deployment}/chat/completions?api-version=2024-10-21`,
          })
        ).json()
      expect(await json('dep401')).toEqual(
        await readFixtureJson('azure/error-401-invalid-key.json'),
      )
      expect(await json('dep404')).toEqual(
        await readFixtureJson('azure/error-404-deployment-not-found.json'),
      )
    })

    it('sends Retry-After in each form: seconds, fractional, HTTP date, retry-after-ms', async () => {
      const date = new Date(Date.UTC(2030, 0, 1, 0, 0, 2)).toUTCString()
      const server = await start()
      server.script('seconds', { status: 429, retryAfter: '2' })
      server.script('fraction', { status: 429, retryAfter: '1.5' })
      server.script('date', { status: 503, retryAfter: date })
      server.script('ms', { status: 429, retryAfterMs: 1500 })
      const headers = async (model: string): Promise<Headers> =>
        (await post(server, chat(model))).headers
      expect((await headers('seconds')).get('retry-after')).toBe('2')
      expect((await headers('fraction')).get('retry-after')).toBe('1.5')
      expect((await headers('date')).get('retry-after')).toBe(date)
      const ms = await headers('ms')
      expect(ms.get('retry-after-ms')).toBe('1500')
      expect(ms.get('retry-after')).toBeNull()
    })

    it("sends OpenAI's request id and processing time on every response", async () => {
      const server = await start({ respond: [{ status: 429 }, { text: 'ok' }] })
      for (let i = 0; i < 2; i++) {
        const response = await post(server, chat('gpt-4o'))
        expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/)
        expect(response.headers.get('openai-processing-ms')).toMatch(/^\d+$/)
        expect(response.headers.get('openai-version')).toBe('2020-10-01')
      }
    })
  })

  describe('faults', () => {
    it('drop: closes the connection before any byte', async () => {
      const server = await start({ respond: { fault: 'drop' } })
      await expect(post(server, chat('gpt-4o'))).rejects.toThrow(TypeError)
    })

    it('drop-mid-body: sends headers and half the JSON, then closes', async () => {
      const server = await start({ respond: { fault: 'drop-mid-body' } })
      const response = await post(server, chat('gpt-4o'))
      expect(response.status).toBe(200)
      const { text, failed } = await readUntilEnd(response)
      expect(failed).toBe(true)
      expect(text.startsWith('{"id":"chatcmpl-')).toBe(true)
    })

    it('drop-mid-stream: sends the first events, then closes', async () => {
      const server = await start({ respond: { fault: 'drop-mid-stream', afterEvents: 2 } })
      const { text, failed } = await readUntilEnd(await post(server, streamed('gpt-4o')))
      expect(failed).toBe(true)
      expect(chunksOf(text)).toHaveLength(2)
    })

    it('malformed-json: a 200 JSON body that does not parse', async () => {
      const server = await start({ respond: { fault: 'malformed-json' } })
      const response = await post(server, chat('gpt-4o'))
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/json')
      const text = await response.text()
      expect(() => JSON.parse(text)).toThrow(SyntaxError)
    })

    it('malformed-sse: a 200 stream whose events are not JSON', async () => {
      const server = await start({ respond: { fault: 'malformed-sse' } })
      const payloads = ssePayloads(await (await post(server, streamed('gpt-4o'))).text())
      expect(payloads.length).toBeGreaterThan(0)
      for (const data of payloads) expect(() => JSON.parse(data)).toThrow(SyntaxError)
    })

    it('wrong-content-type: a 200 HTML page', async () => {
      const server = await start({ respond: { fault: 'wrong-content-type' } })
      const response = await post(server, chat('gpt-4o'))
      expect(response.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await response.text()).toMatch(/^<!DOCTYPE html>/)
    })

    it('oversized: a body of sizeBytes bytes', async () => {
      const server = await start({ respond: { fault: 'oversized', sizeBytes: 1_000_000 } })
      const response = await post(server, chat('gpt-4o'))
      expect((await response.arrayBuffer()).byteLength).toBe(1_000_000)
    })

    it('hang: never answers, and records closedEarly once the client aborts', async () => {
      const server = await start({ respond: { fault: 'hang' } })
      const controller = new AbortController()
      const pending = post(server, chat('gpt-4o'), { signal: controller.signal })
      await vi.waitFor(() => expect(server.requests).toHaveLength(1), { interval: 2 })
      controller.abort()
      await expect(pending).rejects.toThrow(/abort/i)
      expect((await server.settled(0)).closedEarly).toBe(true)
    })

    it('stall: sends the first events, then nothing, until the client gives up', async () => {
      const server = await start({ respond: { fault: 'stall', afterEvents: 2 } })
      const controller = new AbortController()
      const response = await post(server, streamed('gpt-4o'), { signal: controller.signal })
      const reader = response.body?.getReader()
      if (reader === undefined) throw new Error('no body')
      const decoder = new TextDecoder()
      let text = ''
      while (chunksOf(text).length < 2) text += decoder.decode((await reader.read()).value)
      const next = reader.read()
      const quiet = await Promise.race([
        next.then(() => 'data'),
        new Promise((r) => setTimeout(r, 20, 'quiet')),
      ])
      expect(quiet).toBe('quiet')
      controller.abort()
      await next.catch(() => undefined)
      expect((await server.settled(0)).closedEarly).toBe(true)
      expect(chunksOf(text)).toHaveLength(2)
    })

    it('in-band-error: a 200 stream carrying a data: {"error": …} frame', async () => {
      const server = await start({ respond: { fault: 'in-band-error', afterEvents: 2 } })
      const response = await post(server, streamed('gpt-4o'))
      expect(response.status).toBe(200)
      const payloads = ssePayloads(await response.text())
      expect(payloads).toHaveLength(3)
      expect(JSON.parse(payloads[2] ?? '')).toMatchObject({
        error: { type: 'server_error', message: expect.any(String) },
      })
      expect(payloads).not.toContain('[DONE]')
    })

    it('no-terminal: a stream that ends without finish chunk, usage chunk or [DONE]', async () => {
      const server = await start({ respond: { fault: 'no-terminal' } })
      const response = await post(server, streamed('gpt-4o'))
      const text = await response.text()
      const chunks = chunksOf(text)
      expect(chunks.length).toBeGreaterThan(1)
      expect(ssePayloads(text)).not.toContain('[DONE]')
      expect(chunks.every((chunk) => at(chunk, 'choices', 0, 'finish_reason') === null)).toBe(true)
      expect((await server.settled(0)).closedEarly).toBe(false)
    })

    it('slow headers: holds the response headers for headersDelayMs', async () => {
      const server = await start({ respond: { text: 'late', headersDelayMs: 40 } })
      const started = performance.now()
      const response = await post(server, chat('gpt-4o'))
      expect(performance.now() - started).toBeGreaterThanOrEqual(35)
      expect(response.status).toBe(200)
    })
  })

  describe('raw replies', () => {
    it('serves a recorded stream byte for byte', async () => {
      const bytes = await readFile(fixtureURL('openai/stream-text-with-usage.sse'))
      const server = await start({
        respond: {
          raw: {
            headers: { 'content-type': 'text/event-stream; charset=utf-8' },
            body: bytes.toString('utf8'),
          },
        },
      })
      const response = await post(server, streamed('gpt-4o'))
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true)
    })

    it('serves a recorded body in timed pieces, byte for byte', async () => {
      const bytes = await readFile(fixtureURL('openai/stream-tool-call.sse'))
      const text = bytes.toString('utf8')
      const half = Math.floor(text.length / 2)
      const server = await start({
        respond: {
          raw: {
            status: 200,
            body: [{ data: text.slice(0, half) }, { data: text.slice(half), delayMs: 5 }],
          },
        },
      })
      const response = await post(server, streamed('gpt-4o'))
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true)
    })
  })

  describe('bad scripts', () => {
    it('throws a ConfigError naming an unknown fault', async () => {
      const server = await start()
      const error = caught(() => server.script('gpt-4o', { fault: 'explode' } as unknown as Reply))
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).path).toBe('script("gpt-4o")[0].fault')
      expect((error as ConfigError).message).toMatch(/"drop"/)
    })

    it('throws a ConfigError naming an unknown field', async () => {
      const server = await start()
      const error = caught(() =>
        server.script('gpt-4o', { text: 'ok' }, { text: 'x', colour: 'red' } as unknown as Reply),
      )
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).path).toBe('script("gpt-4o")[1].colour')
      expect((error as ConfigError).message).toMatch(/; received unknown option "colour"$/)
    })

    it('rejects a start whose respond has status 42, naming the path', async () => {
      const error = await startFakeOpenAI({ respond: { status: 42 } }).catch(
        (reason: unknown) => reason,
      )
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).path).toBe('respond[0].status')
    })
  })

  describe('connections', () => {
    it('reuses one keep-alive connection for sequential requests', async () => {
      const server = await start()
      const agent = new Agent({ connections: 1 })
      onTestFinished(() => agent.close())
      let connected = 0
      const onConnected = (): void => {
        connected += 1
      }
      diagnosticsChannel.subscribe('undici:client:connected', onConnected)
      onTestFinished(() => {
        diagnosticsChannel.unsubscribe('undici:client:connected', onConnected)
      })
      for (let i = 0; i < 5; i++) {
        const response = await undiciFetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(chat('gpt-4o')),
          dispatcher: agent,
        })
        expect(response.headers.get('connection')).not.toBe('close')
        await response.json()
      }
      expect(server.requests).toHaveLength(5)
      expect(connected).toBe(1)
    })

    it('close() destroys an idle keep-alive connection and leaves no handle behind', async () => {
      const countHandles = (name: string): number =>
        process.getActiveResourcesInfo().filter((resource) => resource === name).length
      // A closed handle leaves the list in libuv's close phase, a turn after its callback.
      const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
      await nextTurn()
      await nextTurn()
      const serversBefore = countHandles('TCPServerWrap')
      const socketsBefore = countHandles('TCPSocketWrap')
      const server = await startFakeOpenAI()
      const agent = new Agent({ connections: 1 })
      onTestFinished(() => agent.close())
      let socket: Socket | undefined
      const onConnected = (message: unknown): void => {
        const value = at(message, 'socket')
        if (value !== undefined) socket = value as Socket
      }
      diagnosticsChannel.subscribe('undici:client:connected', onConnected)
      onTestFinished(() => {
        diagnosticsChannel.unsubscribe('undici:client:connected', onConnected)
      })
      const response = await undiciFetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(chat('gpt-4o')),
        dispatcher: agent,
      })
      await response.json()
      expect(socket?.destroyed).toBe(false)
      expect(countHandles('TCPServerWrap')).toBe(serversBefore + 1)
      const clientClosed = new Promise((resolve) => socket?.once('close', resolve))
      await server.close()
      await clientClosed
      expect(socket?.destroyed).toBe(true)
      await vi.waitFor(
        () => {
          expect(countHandles('TCPServerWrap')).toBe(serversBefore)
          expect(countHandles('TCPSocketWrap')).toBeLessThanOrEqual(socketsBefore)
        },
        { interval: 1, timeout: 500 },
      )
      await expect(fetch(`${server.url}/v1/chat/completions`, { method: 'POST' })).rejects.toThrow(
        TypeError,
      )
    })

    it('close() ends a hanging request too', async () => {
      const server = await startFakeOpenAI({ respond: { fault: 'hang' } })
      const pending = post(server, chat('gpt-4o'))
      await vi.waitFor(() => expect(server.requests).toHaveLength(1), { interval: 2 })
      await server.close()
      await expect(pending).rejects.toThrow(TypeError)
      expect((await server.settled(0)).closedEarly).toBe(true)
    })
  })
})
