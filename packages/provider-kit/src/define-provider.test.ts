import {
  type ChatRequest,
  type ErrorKind,
  type FinishReason,
  isUnderstudyError,
  type Provider,
  type ProviderContext,
  type ProviderStreamEvent,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fc, test } from '@fast-check/vitest'
import { type FakeServer, type FakeServerOptions, startFakeOpenAI } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import { Agent, buildConnector } from 'undici'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type DefineProviderOptions, defineProvider } from './define-provider.js'
import type { ProviderSpec, SseMessage, StreamParser } from './provider-spec.js'
import { context as sharedContext } from '../../../test-support/provider-harness.js'
import { waitFor } from './test-support/wait-for.js'

type Json = Record<string, unknown>
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const text = (value: unknown): string => (typeof value === 'string' ? value : '')

const finishReasons: readonly FinishReason[] = ['stop', 'length', 'tool_calls', 'content_filter']
const finishReasonOf = (value: unknown): FinishReason | undefined =>
  typeof value !== 'string' ? undefined : (finishReasons.find((r) => r === value) ?? 'other')

function usageOf(value: unknown): Usage {
  if (!isRecord(value)) return {}
  return {
    ...(typeof value.prompt_tokens === 'number' && { inputTokens: value.prompt_tokens }),
    ...(typeof value.completion_tokens === 'number' && { outputTokens: value.completion_tokens }),
  }
}

function kindOfCode(code: unknown): ErrorKind | undefined {
  if (code === 'insufficient_quota') return 'quota'
  if (code === 'context_length_exceeded') return 'context_window'
  return undefined
}

/**
 * A minimal OpenAI-like spec, written for these tests only (the real dialect
 * is `@understudy/providers-openai`): text in, text out, streamed text.
 */
function testSpec(overrides: Partial<ProviderSpec> = {}): ProviderSpec {
  return {
    id: 'acme',
    baseURL: 'http://127.0.0.1:9/v1',
    apiKey: () => undefined,
    authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
    buildRequest: (request, { stream }) => ({
      path: '/chat/completions',
      body: {
        model: request.model,
        messages: request.messages.map((message) => ({
          role: message.role,
          content: typeof message.content === 'string' ? message.content : '',
        })),
        temperature: request.temperature,
        stop: request.stop,
        ...(stream && { stream: true, stream_options: { include_usage: true } }),
      },
    }),
    parseResponse: (body) => {
      const choice = isRecord(body) && Array.isArray(body.choices) ? body.choices[0] : undefined
      const message = isRecord(choice) && isRecord(choice.message) ? choice.message : undefined
      if (!isRecord(choice) || message === undefined) {
        throw new UnderstudyError({ kind: 'server', message: 'not a chat completion' })
      }
      const content = text(message.content)
      return {
        text: content,
        message: { role: 'assistant', content },
        toolCalls: [],
        finishReason: finishReasonOf(choice.finish_reason) ?? 'other',
        usage: usageOf(isRecord(body) ? body.usage : undefined),
      }
    },
    createStreamParser: (): StreamParser => {
      let finishReason: FinishReason | undefined
      let usage: Usage = {}
      return {
        push(message: SseMessage): readonly ProviderStreamEvent[] {
          if (message.data === '[DONE]') return []
          const chunk: unknown = JSON.parse(message.data)
          if (!isRecord(chunk)) return []
          if (isRecord(chunk.error)) {
            throw new UnderstudyError({
              kind: kindOfCode(chunk.error.code) ?? 'server',
              message: `in-band error: ${text(chunk.error.message)}`,
            })
          }
          if (isRecord(chunk.usage)) usage = usageOf(chunk.usage)
          const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
          if (!isRecord(choice)) return []
          finishReason = finishReasonOf(choice.finish_reason) ?? finishReason
          const content = isRecord(choice.delta) ? text(choice.delta.content) : ''
          return content === '' ? [] : [{ type: 'text', text: content }]
        },
        end(): readonly ProviderStreamEvent[] {
          if (finishReason === undefined) {
            throw new UnderstudyError({ kind: 'incomplete', message: 'no finish_reason' })
          }
          return [{ type: 'finish', finishReason, usage }]
        },
      }
    },
    readError: (_status, body) => {
      const error = isRecord(body) && isRecord(body.error) ? body.error : {}
      const kind = kindOfCode(error.code ?? error.type)
      return {
        ...(kind !== undefined && { kind }),
        ...(typeof error.message === 'string' && { message: error.message }),
      }
    },
    ...overrides,
  }
}

const request: ChatRequest = { model: 'gpt-test', messages: [{ role: 'user', content: 'Say hi.' }] }
const configuredKey = 'sk-configured-1a2b3c4d'

const context: (overrides?: Partial<ProviderContext>) => ProviderContext = sharedContext

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

function acme(
  server: FakeServer,
  spec: Partial<ProviderSpec> = {},
  options?: DefineProviderOptions,
): Provider {
  return defineProvider(
    testSpec({ baseURL: `${server.url}/v1`, apiKey: () => configuredKey, ...spec }),
    options,
  )
}

async function rejection(promise: Promise<unknown>): Promise<UnderstudyError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  )
  if (!isUnderstudyError(outcome))
    throw new Error(`expected an UnderstudyError, got ${String(outcome)}`)
  return outcome
}

async function collect(events: AsyncIterable<ProviderStreamEvent>): Promise<ProviderStreamEvent[]> {
  const out: ProviderStreamEvent[] = []
  for await (const event of events) out.push(event)
  return out
}

providerConformanceSuite('defineProvider over undici.request', {
  provider: ({ baseURL, apiKey }) => defineProvider(testSpec({ baseURL, apiKey: () => apiKey })),
  startServer: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
  statusKinds: { 408: 'timeout', 409: 'server', 422: 'invalid_request', 529: 'overloaded' },
})

providerConformanceSuite('defineProvider over fetch', {
  provider: ({ baseURL, apiKey }) =>
    defineProvider(testSpec({ baseURL, apiKey: () => apiKey }), { fetch: globalThis.fetch }),
  startServer: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
})

describe('defineProvider', () => {
  describe('credentials (DESIGN.md rule 2)', () => {
    it('sends the configured key to the configured base URL', async () => {
      const server = await start()
      await acme(server).complete(request, context())
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${configuredKey}`)
    })

    it('sends no key at all to a target base URL that brings no key of its own', async () => {
      const configured = await start()
      const foreign = await start()
      const response = await acme(configured).complete(
        request,
        context({ baseURL: `${foreign.url}/v1` }),
      )
      expect(response.text).toBe('Hello from the fake server.')
      expect(configured.requests).toHaveLength(0)
      expect(foreign.requests).toHaveLength(1)
      expect(foreign.requests[0]?.headers.authorization).toBeUndefined()
      expect(JSON.stringify(foreign.requests[0])).not.toContain(configuredKey)
    })

    it('sends the target’s own key, not the configured one, wherever the target points', async () => {
      const configured = await start()
      const foreign = await start()
      const provider = acme(configured)
      await provider.complete(request, context({ apiKey: 'sk-target-key-9' }))
      await provider.complete(
        request,
        context({ apiKey: 'sk-target-key-8', baseURL: `${foreign.url}/v1` }),
      )
      expect(configured.requests[0]?.headers.authorization).toBe('Bearer sk-target-key-9')
      expect(foreign.requests[0]?.headers.authorization).toBe('Bearer sk-target-key-8')
    })

    it('rejects with kind auth and sends nothing when no key is configured', async () => {
      const server = await start()
      const provider = acme(server, { apiKey: () => undefined })
      const error = await rejection(provider.complete(request, context()))
      expect(error.kind).toBe('auth')
      expect(error.provider).toBe('acme')
      expect(error.model).toBe('gpt-test')
      const streamError = await rejection(collect(provider.stream(request, context())))
      expect(streamError.kind).toBe('auth')
      expect(server.requests).toHaveLength(0)
      expect(error.message).toBe('acme/gpt-test: no API key is configured for provider acme')
    })

    it('says how to set a key when the spec says where users set it', async () => {
      const server = await start()
      const provider = acme(server, {
        apiKey: () => undefined,
        keySource: { factory: 'acme()', env: 'ACME_API_KEY' },
      })
      const error = await rejection(provider.complete(request, context()))
      expect(error.kind).toBe('auth')
      expect(error.message).toBe(
        'acme/gpt-test: no API key: set ACME_API_KEY or pass apiKey to acme(), ' +
          'or give the target its own apiKey',
      )
      const streamError = await rejection(collect(provider.stream(request, context())))
      expect(streamError.message).toBe(error.message)
      expect(server.requests).toHaveLength(0)
    })

    it('tells authHeaders whether the key is the configured one or the target’s own', async () => {
      const server = await start()
      const provider = acme(server, {
        authHeaders: (key, source) =>
          source === 'configured' ? { authorization: `Bearer ${key}` } : { 'x-api-key': key },
      })
      await provider.complete(request, context())
      await provider.complete(request, context({ apiKey: 'sk-target-key-7' }))
      expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${configuredKey}`)
      expect(server.requests[0]?.headers['x-api-key']).toBeUndefined()
      expect(server.requests[1]?.headers['x-api-key']).toBe('sk-target-key-7')
      expect(server.requests[1]?.headers.authorization).toBeUndefined()
    })

    it('tells buildRequest, parseResponse and the stream parser where the attempt goes', async () => {
      const configured = await start()
      const foreign = await start()
      const seen: unknown[] = []
      const base = testSpec()
      const provider = acme(configured, {
        buildRequest: (built, options) => {
          seen.push(['build', options.target])
          return base.buildRequest(built, options)
        },
        parseResponse: (body, info) => {
          seen.push(['parse', info.target])
          return base.parseResponse(body, info)
        },
        createStreamParser: (target) => {
          seen.push(['stream', target])
          return base.createStreamParser(target)
        },
      })
      await provider.complete(request, context())
      await collect(
        provider.stream(request, context({ baseURL: `${foreign.url}/v1/`, apiKey: 'sk-t-1' })),
      )
      const configuredTarget = {
        model: 'gpt-test',
        baseURL: `${configured.url}/v1`,
        apiKey: configuredKey,
      }
      const foreignTarget = { model: 'gpt-test', baseURL: `${foreign.url}/v1`, apiKey: 'sk-t-1' }
      expect(seen).toEqual([
        ['build', configuredTarget],
        ['parse', configuredTarget],
        ['build', foreignTarget],
        ['stream', foreignTarget],
      ])
    })

    it('awaits a key that is read asynchronously, each call', async () => {
      const server = await start()
      let reads = 0
      const provider = acme(server, {
        apiKey: async () => {
          reads++
          return `sk-async-${reads}-abcdef`
        },
      })
      await provider.complete(request, context())
      await provider.complete(request, context())
      expect(server.requests.map((r) => r.headers.authorization)).toEqual([
        'Bearer sk-async-1-abcdef',
        'Bearer sk-async-2-abcdef',
      ])
    })

    it('rejects with kind auth, sending nothing, when reading the key fails', async () => {
      const server = await start()
      const provider = acme(server, {
        apiKey: () => Promise.reject(new Error('token service down')),
      })
      const error = await rejection(provider.complete(request, context()))
      expect(error.kind).toBe('auth')
      expect(server.requests).toHaveLength(0)
    })
  })

  it('merges headers: spec, then dialect, then the target’s, then the auth headers, names in lower case', async () => {
    const server = await start()
    const provider = acme(server, {
      headers: { 'X-A': 'spec', 'x-b': 'spec', authorization: 'spec' },
      buildRequest: (req, options) => ({
        ...testSpec().buildRequest(req, options),
        headers: { 'x-b': 'dialect', 'x-c': 'dialect' },
      }),
    })
    await provider.complete(
      request,
      context({ headers: { 'X-C': 'target', Authorization: 'target' } }),
    )
    const headers = server.requests[0]?.headers
    expect(headers).toMatchObject({
      'x-a': 'spec',
      'x-b': 'dialect',
      'x-c': 'target',
      authorization: `Bearer ${configuredKey}`,
      'content-type': 'application/json',
      accept: 'application/json',
    })
  })

  it('tells core its base URL and the configured key known without waiting, for health keys', () => {
    let key: string | undefined = 'sk-first'
    const provider = defineProvider(
      testSpec({ baseURL: 'https://acme.example/v1/', configuredKey: () => key }),
    )
    expect(provider.configuredTarget?.()).toEqual({
      baseURL: 'https://acme.example/v1',
      apiKey: 'sk-first',
    })
    // Read per call: a rotated key is another health record from then on.
    key = 'sk-rotated'
    expect(provider.configuredTarget?.()?.apiKey).toBe('sk-rotated')
    // A key that is fetched is never read for this: the base URL alone.
    let fetched = 0
    const fetching = defineProvider(
      testSpec({
        apiKey: async () => {
          fetched += 1
          return 'sk-fetched'
        },
      }),
    )
    expect(fetching.configuredTarget?.()).toEqual({
      baseURL: 'http://127.0.0.1:9/v1',
      apiKey: undefined,
    })
    expect(fetched).toBe(0)
  })

  it('joins base URL and path with exactly one slash', async () => {
    const server = await start()
    const provider = acme(server, {
      baseURL: `${server.url}/v1//`,
      buildRequest: (req, options) => ({
        ...testSpec().buildRequest(req, options),
        path: 'chat/completions',
      }),
    })
    await provider.complete(request, context())
    await provider.complete(request, context({ baseURL: `${server.url}/v1/` }))
    expect(server.requests.map((r) => r.path)).toEqual([
      '/v1/chat/completions',
      '/v1/chat/completions',
    ])
  })

  it('adds the status and the request id of the response', async () => {
    const server = await start()
    const response = await acme(server).complete(request, context())
    expect(response.status).toBe(200)
    expect(response.requestId).toMatch(/^req_/)
  })

  it('makes exactly one request per call, whatever the outcome, and never retries', async () => {
    const server = await start()
    server.script(
      'gpt-test',
      { status: 503 },
      { status: 429, retryAfter: '1' },
      { fault: 'drop' },
      { status: 500 },
      { text: 'fine' },
    )
    const provider = acme(server)
    const kinds: string[] = []
    for (let i = 0; i < 4; i++) {
      kinds.push((await rejection(provider.complete(request, context()))).kind)
      expect(server.requests).toHaveLength(i + 1)
    }
    expect(kinds).toEqual(['overloaded', 'rate_limit', 'network', 'server'])
    const events = await collect(provider.stream(request, context()))
    expect(events.at(-1)?.type).toBe('finish')
    expect(server.requests).toHaveLength(5)
  })

  it('reuses one keep-alive connection across calls, answers and errors alike', async () => {
    const server = await start()
    server.script('gpt-test', { text: 'one' }, { status: 429 }, { text: 'two' })
    let connects = 0
    const connector = buildConnector({})
    const agent = new Agent({
      connections: 1,
      connect: (options, callback) => {
        connects++
        connector(options, callback)
      },
    })
    onTestFinished(() => agent.close())
    const provider = acme(server, {}, { dispatcher: agent })
    await provider.complete(request, context())
    await rejection(provider.complete(request, context()))
    await provider.complete(request, context())
    await collect(provider.stream(request, context()))
    await Promise.all([
      provider.complete(request, context()),
      provider.complete(request, context()),
    ])
    expect(server.requests).toHaveLength(6)
    expect(connects).toBe(1)
  })

  it('rejects a 200 that is not JSON with kind server, and a stream that is not text/event-stream too', async () => {
    const server = await start()
    server.script('gpt-test', { fault: 'wrong-content-type' }, { text: 'json, not a stream' })
    const provider = acme(server)
    const error = await rejection(provider.complete(request, context()))
    expect(error.kind).toBe('server')
    expect(error.status).toBe(200)
    expect(error.message).toContain('text/html')
    server.script('gpt-test', {
      raw: { headers: { 'content-type': 'application/json' }, body: '{"choices":[]}' },
    })
    const streamError = await rejection(collect(provider.stream(request, context())))
    expect(streamError.kind).toBe('server')
    expect(streamError.message).toContain('text/event-stream')
  })

  it('rejects a 200 whose body does not parse with kind server', async () => {
    const server = await start({ respond: { fault: 'malformed-json' } })
    const error = await rejection(acme(server).complete(request, context()))
    expect(error.kind).toBe('server')
    expect(error.provider).toBe('acme')
  })

  it('rejects with the kind the spec throws, before any request, when the request cannot be built', async () => {
    const server = await start()
    const provider = acme(server, {
      buildRequest: () => {
        throw new UnderstudyError({ kind: 'unsupported', message: 'no images here' })
      },
    })
    const error = await rejection(provider.complete(request, context()))
    expect(error.kind).toBe('unsupported')
    expect(error.message).toBe('acme/gpt-test: no images here')
    expect(server.requests).toHaveLength(0)
  })

  it('takes the kind from the body before the status', async () => {
    const server = await start({
      respond: {
        status: 429,
        body: {
          error: {
            message: 'You exceeded your quota',
            type: 'insufficient_quota',
            code: 'insufficient_quota',
          },
        },
      },
    })
    const error = await rejection(acme(server).complete(request, context()))
    expect(error.kind).toBe('quota')
    expect(error.message).toBe('acme/gpt-test 429: You exceeded your quota')
    expect(error.requestId).toMatch(/^req_/)
  })

  it('keeps the key in use and every credential header out of every error', async () => {
    const server = await start()
    const targetKey = 'sk-target-echoed-5e6f7a8b'
    const headerSecret = 'hdr-secret-0c0ffee0'
    server.script('gpt-test', {
      status: 401,
      body: {
        error: { message: `Bad key ${targetKey} and ${headerSecret}`, code: 'invalid_api_key' },
      },
    })
    const error = await rejection(
      acme(server).complete(
        request,
        context({ apiKey: targetKey, headers: { 'x-upstream-token': headerSecret } }),
      ),
    )
    const shown = `${error.message}\n${JSON.stringify(error)}\n${error.stack ?? ''}`
    expect(shown).not.toContain(targetKey)
    expect(shown).not.toContain(headerSecret)
    expect(error.kind).toBe('auth')
  })

  it('keeps the query string out of a transport error', async () => {
    const server = await start({ respond: { fault: 'drop' } })
    const provider = acme(server, {
      buildRequest: (req, options) => ({
        ...testSpec().buildRequest(req, options),
        path: '/chat/completions?key=AIza-in-query-1234',
      }),
    })
    const error = await rejection(provider.complete(request, context()))
    expect(error.kind).toBe('network')
    expect(error.message).toMatch(
      /^acme\/gpt-test: POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: /,
    )
    expect(JSON.stringify(error)).not.toContain('AIza-in-query-1234')
  })

  describe('stream', () => {
    it('sends nothing until the first next()', async () => {
      const server = await start()
      const provider = acme(server)
      const events = provider.stream(request, context())
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(server.requests).toHaveLength(0)
      expect((await collect(events)).at(-1)?.type).toBe('finish')
      expect(server.requests).toHaveLength(1)
      expect(server.requests[0]?.headers.accept).toBe('text/event-stream')
    })

    it('yields the parser’s events in order and its end() events last', async () => {
      const server = await start()
      server.script('gpt-test', {
        text: 'a b c',
        chunks: ['a', ' b', ' c'],
        usage: { inputTokens: 3, outputTokens: 3 },
      })
      const events = await collect(acme(server).stream(request, context()))
      expect(events).toEqual([
        { type: 'text', text: 'a' },
        { type: 'text', text: ' b' },
        { type: 'text', text: ' c' },
        { type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 3 } },
      ])
    })

    it('rejects with kind aborted, the reason as cause, when aborted mid-stream; the server sees the connection closed', async () => {
      const server = await start({ respond: { fault: 'stall', afterEvents: 2 } })
      const controller = new AbortController()
      const events = acme(server).stream(request, context({ signal: controller.signal }))
      const iterator = events[Symbol.asyncIterator]()
      const first = await iterator.next()
      expect(first.value).toEqual({ type: 'text', text: 'Partial' })
      const pending = iterator.next()
      const reason = new Error('caller left')
      controller.abort(reason)
      const error = await rejection(pending)
      expect(error.kind).toBe('aborted')
      expect(error.cause).toBe(reason)
      expect((await server.settled(0)).closedEarly).toBe(true)
    })

    it('rejects with kind aborted when aborted before the headers; the server sees the connection closed', async () => {
      const server = await start({ respond: { fault: 'hang' } })
      const controller = new AbortController()
      const pending = collect(acme(server).stream(request, context({ signal: controller.signal })))
      await waitFor(() => server.requests.length === 1)
      controller.abort()
      expect((await rejection(pending)).kind).toBe('aborted')
      expect((await server.settled(0)).closedEarly).toBe(true)
    })

    it('maps a stream cut mid-way to kind network', async () => {
      const server = await start({ respond: { fault: 'drop-mid-stream', afterEvents: 2 } })
      const error = await rejection(collect(acme(server).stream(request, context())))
      expect(error.kind).toBe('network')
      expect(error.provider).toBe('acme')
    })

    it('closes the connection at once on return() while a read is pending, and ends that read', async () => {
      const server = await start({ respond: { fault: 'stall', afterEvents: 2 } })
      const iterator = acme(server).stream(request, context())[Symbol.asyncIterator]()
      expect((await iterator.next()).value).toEqual({ type: 'text', text: 'Partial' })
      const pending = iterator.next()
      await iterator.return?.()
      expect(await pending).toEqual({ done: true, value: undefined })
      expect((await server.settled(0)).closedEarly).toBe(true)
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    it('sends nothing when left before the first next()', async () => {
      const server = await start()
      const iterator = acme(server).stream(request, context())[Symbol.asyncIterator]()
      await iterator.return?.()
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(server.requests).toHaveLength(0)
    })

    it('answers two next() calls made at once in order, as a generator does', async () => {
      const server = await start()
      server.script('gpt-test', { text: 'a b', chunks: ['a', ' b'] })
      const iterator = acme(server).stream(request, context())[Symbol.asyncIterator]()
      const [first, second] = await Promise.all([iterator.next(), iterator.next()])
      expect(first.value).toEqual({ type: 'text', text: 'a' })
      expect(second.value).toEqual({ type: 'text', text: ' b' })
    })

    it('reads no further ahead than its consumer: a slow reader holds the upstream back', async () => {
      const upstream = await startEndlessSse()
      const provider = defineProvider(testSpec({ baseURL: `${upstream.url}/v1` }), {})
      const iterator = provider
        .stream(request, context({ apiKey: 'k', baseURL: `${upstream.url}/v1` }))
        [Symbol.asyncIterator]()
      expect((await iterator.next()).value).toMatchObject({ type: 'text' })
      // Wait until the server can write no more: the socket buffers are full.
      let last = -1
      for (let i = 0; i < 100 && upstream.written() !== last; i++) {
        last = upstream.written()
        await new Promise((resolve) => setTimeout(resolve, 30))
      }
      expect(upstream.written()).toBeLessThan(upstream.limit / 4)
      await iterator.return?.()
      await upstream.closed
    })

    test.prop(
      [
        fc.array(fc.string({ unit: 'grapheme', maxLength: 6 }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 30 }),
      ],
      { numRuns: 100 },
    )('yields the same events however the body is cut into chunks', async (pieces, cuts) => {
      const wire = [
        ...pieces.map((piece) => chunkOf({ content: piece }, null)),
        chunkOf({}, 'stop'),
        'data: [DONE]\n\n',
      ].join('')
      const bytes = new TextEncoder().encode(wire)
      const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
      const parts = [0, ...at].map((start, i) => bytes.subarray(start, at[i] ?? bytes.length))
      const fetch = async (): Promise<Response> =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              for (const part of parts) controller.enqueue(part)
              controller.close()
            },
          }),
          { status: 200, headers: { 'content-type': 'text/event-stream' } },
        )
      const provider = defineProvider(testSpec({ apiKey: () => 'k' }), { fetch })
      expect(await collect(provider.stream(request, context()))).toEqual([
        ...pieces.filter((piece) => piece !== '').map((text) => ({ type: 'text', text })),
        { type: 'finish', finishReason: 'stop', usage: {} },
      ])
    })

    it('passes an in-band error of the parser through with this provider and model', async () => {
      const server = await start({ respond: { fault: 'in-band-error' } })
      const error = await rejection(collect(acme(server).stream(request, context())))
      expect(error.kind).toBe('server')
      expect(error.message).toMatch(/^acme\/gpt-test: in-band error: /)
      expect(error.model).toBe('gpt-test')
    })
  })
})

/** One OpenAI-like SSE chunk of the first choice. */
function chunkOf(delta: Json, finishReason: string | null): string {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`
}

/**
 * A server that streams 16 KiB text chunks up to {@link limit} bytes as fast
 * as the client takes them, honouring the socket's backpressure; it counts
 * what it wrote. Closed when the test ends.
 */
async function startEndlessSse(): Promise<{
  url: string
  limit: number
  written: () => number
  closed: Promise<void>
}> {
  const limit = 64 * 1024 * 1024
  let written = 0
  let closedResponse: () => void = () => {}
  const closed = new Promise<void>((resolve) => {
    closedResponse = resolve
  })
  const event = chunkOf({ content: 'x'.repeat(16 * 1024) }, null)
  const server = createServer((req, res: ServerResponse) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', closedResponse)
    const pump = (): void => {
      while (written < limit) {
        written += event.length
        if (!res.write(event)) {
          res.once('drain', pump)
          return
        }
      }
      res.end()
    }
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, limit, written: () => written, closed }
}

/** A context as the client makes one: the abort heard through `onAbort`; reading `signal` fails the test. */
function hookedContext(): { context: ProviderContext; abort: (reason: unknown) => void } {
  const listeners: ((reason: unknown) => void)[] = []
  const hooked: ProviderContext = {
    get signal(): AbortSignal {
      throw new Error('the signal was read although the context has onAbort')
    },
    apiKey: undefined,
    baseURL: undefined,
    headers: undefined,
    deadline: Number.POSITIVE_INFINITY,
    onAbort: (listener) => {
      listeners.push(listener)
      return () => listeners.splice(listeners.indexOf(listener), 1)
    },
  }
  const abort = (reason: unknown): void => {
    for (const listener of listeners.splice(0)) listener(reason)
  }
  return { context: hooked, abort }
}

describe('defineProvider with a context that has onAbort', () => {
  it('answers without reading the signal', async () => {
    const server = await start()
    const response = await acme(server).complete(request, hookedContext().context)
    expect(response.text).not.toBe('')
  })

  it('maps an HTTP error without reading the signal', async () => {
    const server = await start({ respond: { status: 503 } })
    const error = await rejection(acme(server).complete(request, hookedContext().context))
    expect(error.kind).toBe('overloaded')
  })

  it('rejects with kind aborted, the reason as cause, when aborted before the headers; the server sees the connection closed', async () => {
    const server = await start({ respond: { fault: 'hang' } })
    const { context: hooked, abort } = hookedContext()
    const pending = acme(server).complete(request, hooked)
    await waitFor(() => server.requests.length === 1)
    const reason = new Error('caller left')
    abort(reason)
    const error = await rejection(pending)
    expect(error.kind).toBe('aborted')
    expect(error.cause).toBe(reason)
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('rejects with kind aborted when aborted mid-stream; the server sees the connection closed', async () => {
    const server = await start({ respond: { fault: 'stall', afterEvents: 2 } })
    const { context: hooked, abort } = hookedContext()
    const iterator = acme(server).stream(request, hooked)[Symbol.asyncIterator]()
    await iterator.next()
    const pending = iterator.next()
    abort(new Error('caller left'))
    expect((await rejection(pending)).kind).toBe('aborted')
    expect((await server.settled(0)).closedEarly).toBe(true)
  })
})
