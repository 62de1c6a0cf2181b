import {
  type ChatRequest,
  ConfigError,
  createClient,
  isUnderstudyError,
  type ProviderContext,
  type ProviderStreamEvent,
  type TargetObject,
  UnderstudyError,
} from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { fakeClock } from './fake-clock.js'
import { hostileMockProvider, mockProvider } from './mock-provider.js'
import type { MockScripts } from './mock-step.js'

const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] }

function contextOf(
  init: {
    signal?: AbortSignal
    apiKey?: string
    baseURL?: string
    headers?: Record<string, string>
  } = {},
): ProviderContext {
  return {
    signal: init.signal ?? new AbortController().signal,
    apiKey: init.apiKey,
    baseURL: init.baseURL,
    headers: init.headers,
    deadline: Infinity,
  }
}

/** What a promise did by now: settled or still pending (after queued work has run). */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending'
  promise.then(
    () => (state = 'fulfilled'),
    () => (state = 'rejected'),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return state
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
}

function configErrorOf(make: () => unknown): ConfigError {
  try {
    make()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

async function readAll(events: AsyncIterable<ProviderStreamEvent>): Promise<ProviderStreamEvent[]> {
  const out: ProviderStreamEvent[] = []
  for await (const event of events) out.push(event)
  return out
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

describe('mockProvider', () => {
  describe('checking scripts', () => {
    it('names the step and field of an unknown error kind', () => {
      const scripts = { m: [{ ok: 'x' }, { fail: 'rate_limited' }] } as unknown as MockScripts
      const error = configErrorOf(() => mockProvider('a', scripts))
      expect(error.kind).toBe('config')
      expect(error.path).toBe('mockProvider("a").scripts["m"][1].fail')
      expect(error.message).toMatch(
        /^mockProvider\("a"\)\.scripts\["m"\]\[1\]\.fail: expected one of "rate_limit", "overloaded", /,
      )
    })

    it.each([
      [{ m: [] }, 'mockProvider("a").scripts["m"]', /non-empty array of steps/],
      [
        { m: [{ okay: 'x' }] },
        'mockProvider("a").scripts["m"][0]',
        /expected a step with one of "ok", "fail"/,
      ],
      [
        { m: [{ ok: 'x', fail: 'server' }] },
        'mockProvider("a").scripts["m"][0]',
        /found "ok", "fail"/,
      ],
      [
        { m: [{ ok: 'x', delay: 5 }] },
        'mockProvider("a").scripts["m"][0].delay',
        /expected one of "ok", "toolCalls", .*; received unknown option "delay"/,
      ],
      [
        { m: [{ ok: 'x', delayMs: -1 }] },
        'mockProvider("a").scripts["m"][0].delayMs',
        /expected number to be >=0/,
      ],
      [
        { m: [{ ok: 'x', finishReason: 'done' }] },
        'mockProvider("a").scripts["m"][0].finishReason',
        /expected one of "stop"/,
      ],
      [{ m: [{ hang: 1 }] }, 'mockProvider("a").scripts["m"][0].hang', /expected true/],
      [
        { m: [{ stream: ['a', { type: 'txt', text: 'b' }] }] },
        'mockProvider("a").scripts["m"][0].stream[1].type',
        /expected a chunk type, one of "text".*; received "txt"$/,
      ],
      [
        { m: [{ stream: ['a', 7] }] },
        'mockProvider("a").scripts["m"][0].stream[1]',
        /expected a text string or a chunk object/,
      ],
      [
        { m: [{ stream: [{ type: 'text', text: 1 }] }] },
        'mockProvider("a").scripts["m"][0].stream[0].text',
        /expected string; received 1$/,
      ],
      [
        { m: [{ stream: [], end: { fail: 'nope' } }] },
        'mockProvider("a").scripts["m"][0].end.fail',
        /expected one of "rate_limit"/,
      ],
      [
        { m: [{ stream: [], end: 'stop' }] },
        'mockProvider("a").scripts["m"][0].end',
        /expected "finish", "no-terminal" or a failure/,
      ],
      [
        { m: [{ failOnRead: 'server', status: 99 }] },
        'mockProvider("a").scripts["m"][0].status',
        /expected number to be >=100/,
      ],
      [{ 'gpt-4o': ['ok'] }, 'mockProvider("a").scripts["gpt-4o"][0]', /expected a step object/],
    ])('rejects a malformed script %j at its path', (scripts, path, message) => {
      const error = configErrorOf(() => mockProvider('a', scripts as unknown as MockScripts))
      expect(error.path).toBe(path)
      expect(error.message).toMatch(message)
    })

    it('rejects a bad id, scripts that are not an object and a clock that is not one', () => {
      expect(configErrorOf(() => mockProvider('a/b')).path).toBe('mockProvider("a/b")')
      expect(configErrorOf(() => mockProvider('a', [] as unknown as MockScripts)).path).toBe(
        'mockProvider("a").scripts',
      )
      const clock = { now: () => 0 } as never
      expect(configErrorOf(() => mockProvider('a', {}, { clock })).path).toBe(
        'mockProvider("a").options.clock',
      )
    })

    it('keeps its own copy: changing the scripts afterwards changes nothing', async () => {
      const steps = [{ ok: 'first' }]
      const a = mockProvider('a', { m: steps })
      steps[0] = { ok: 'changed' }
      expect((await a.complete(request, contextOf())).text).toBe('first')
    })
  })

  describe('complete()', () => {
    it('answers "<id>/<model> ok" for a model nobody scripted', async () => {
      const response = await mockProvider('a').complete({ ...request, model: 'other' }, contextOf())
      expect(response).toEqual({
        text: 'a/other ok',
        message: { role: 'assistant', content: 'a/other ok' },
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
        status: 200,
      })
    })

    it('plays the n-th step on the n-th call of a model, the last one repeating', async () => {
      const a = mockProvider('a', { m: [{ ok: 'one' }, { ok: 'two' }], n: [{ ok: 'n' }] })
      const texts: string[] = []
      for (const model of ['m', 'n', 'm', 'm', 'n']) {
        texts.push((await a.complete({ ...request, model }, contextOf())).text)
      }
      expect(texts).toEqual(['one', 'n', 'two', 'two', 'n'])
    })

    it('succeeds with tool calls, reasoning, usage, status and request id', async () => {
      const a = mockProvider('a', {
        m: [
          {
            ok: '',
            toolCalls: [
              { name: 'get_weather', arguments: '{"city":"Paris"}' },
              { id: 'call_x', name: 'get_time', arguments: '{}' },
            ],
            reasoning: 'thinking',
            usage: { inputTokens: 10, outputTokens: 3 },
            status: 201,
            requestId: 'req_1',
          },
        ],
      })
      const response = await a.complete(request, contextOf())
      expect(response).toEqual({
        text: '',
        message: {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'call_x', name: 'get_time', arguments: '{}' },
          ],
        },
        toolCalls: [
          { id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'call_x', name: 'get_time', arguments: '{}' },
        ],
        reasoning: 'thinking',
        finishReason: 'tool_calls',
        usage: { inputTokens: 10, outputTokens: 3 },
        status: 201,
        requestId: 'req_1',
      })
    })

    it("answers a 200 whose finish reason is 'content_filter'", async () => {
      const a = mockProvider('a', { m: [{ ok: 'partial', finishReason: 'content_filter' }] })
      const response = await a.complete(request, contextOf())
      expect(response.status).toBe(200)
      expect(response.finishReason).toBe('content_filter')
    })

    it('fails with a typed error of the given kind, status and retryAfterMs', async () => {
      const a = mockProvider('a', { m: [{ fail: 'rate_limit', status: 429, retryAfterMs: 1_500 }] })
      const error = await rejectionOf(a.complete(request, contextOf()))
      expect(isUnderstudyError(error, 'rate_limit')).toBe(true)
      expect(error).toMatchObject({
        kind: 'rate_limit',
        status: 429,
        retryAfterMs: 1_500,
        provider: 'a',
        model: 'm',
        message: 'a/m failed: rate_limit',
      })
    })

    it('throws a plain Error, not a typed one, for a throws step', async () => {
      const a = mockProvider('a', { m: [{ throws: 'socket exploded' }] })
      const error = await rejectionOf(a.complete(request, contextOf()))
      expect(error).toBeInstanceOf(Error)
      expect(isUnderstudyError(error)).toBe(false)
      expect((error as Error).message).toBe('socket exploded')
    })

    it('waits delayMs on the injected clock before answering', async () => {
      const clock = fakeClock()
      const a = mockProvider('a', { m: [{ ok: 'late', delayMs: 1_000 }] }, { clock })
      const pending = a.complete(request, contextOf())
      expect(await stateOf(pending)).toBe('pending')
      expect(clock.pending()).toBe(1)
      await clock.advance(999)
      expect(await stateOf(pending)).toBe('pending')
      await clock.advance(1)
      expect((await pending).text).toBe('late')
      expect(clock.pending()).toBe(0)
    })

    it('rejects with kind aborted when the signal aborts during a delay, leaving no timer', async () => {
      const clock = fakeClock()
      const controller = new AbortController()
      const a = mockProvider('a', { m: [{ fail: 'server', delayMs: 1_000 }] }, { clock })
      const pending = a.complete(request, contextOf({ signal: controller.signal }))
      await clock.advance(500)
      controller.abort(new Error('caller gave up'))
      const error = await rejectionOf(pending)
      expect(isUnderstudyError(error, 'aborted')).toBe(true)
      expect((error as UnderstudyError).cause).toEqual(new Error('caller gave up'))
      expect(clock.pending()).toBe(0)
      expect(a.calls[0]?.aborted).toBe(true)
    })

    it('hangs until the signal aborts, then rejects with kind aborted', async () => {
      const controller = new AbortController()
      const a = mockProvider('a', { m: [{ hang: true }] })
      const pending = a.complete(request, contextOf({ signal: controller.signal }))
      expect(await stateOf(pending)).toBe('pending')
      controller.abort()
      expect(isUnderstudyError(await rejectionOf(pending), 'aborted')).toBe(true)
    })

    it('rejects with kind aborted at once when the signal is already aborted', async () => {
      const a = mockProvider('a')
      const error = await rejectionOf(
        a.complete(request, contextOf({ signal: AbortSignal.abort() })),
      )
      expect(isUnderstudyError(error, 'aborted')).toBe(true)
      expect(a.calls[0]?.aborted).toBe(true)
    })

    it('plays a stream step and answers with what its chunks add up to', async () => {
      const clock = fakeClock()
      const a = mockProvider(
        'a',
        {
          m: [
            {
              stream: [
                { type: 'reasoning', text: 'hm' },
                'Hel',
                { type: 'text', text: 'lo', delayMs: 100 },
                { type: 'tool-call-delta', index: 0, id: 'c1', name: 'f', argumentsDelta: '{"a"' },
                { type: 'tool-call-delta', index: 0, argumentsDelta: ':1}' },
              ],
              usage: { inputTokens: 4, outputTokens: 2 },
            },
          ],
        },
        { clock },
      )
      const result = await clock.settle(a.complete(request, contextOf()))
      expect(clock.now()).toBe(100)
      expect(result).toEqual({
        status: 'fulfilled',
        value: {
          text: 'Hello',
          message: {
            role: 'assistant',
            content: 'Hello',
            toolCalls: [{ id: 'c1', name: 'f', arguments: '{"a":1}' }],
          },
          toolCalls: [{ id: 'c1', name: 'f', arguments: '{"a":1}' }],
          reasoning: 'hm',
          finishReason: 'tool_calls',
          usage: { inputTokens: 4, outputTokens: 2 },
          status: 200,
        },
      })
    })

    it('fails a stream step that ends without its finish event as incomplete, or with its failure', async () => {
      const a = mockProvider('a', {
        m: [
          { stream: ['a'], end: 'no-terminal' },
          { stream: ['a'], end: { fail: 'network', message: 'reset' } },
        ],
      })
      expect(
        isUnderstudyError(await rejectionOf(a.complete(request, contextOf())), 'incomplete'),
      ).toBe(true)
      const error = await rejectionOf(a.complete(request, contextOf()))
      expect(error).toMatchObject({ kind: 'network', message: 'reset' })
    })
  })

  describe('recording', () => {
    it('records a deep copy of the request, the credentials, base URL and a copy of the headers', async () => {
      const a = mockProvider('a')
      const sent = {
        model: 'm',
        messages: [{ role: 'user' as const, content: 'hi' }],
        temperature: 0.2,
      }
      const headers = { 'x-tenant': 't1' }
      await a.complete(
        sent,
        contextOf({ apiKey: 'key-1', baseURL: 'https://one.example', headers }),
      )
      sent.messages.push({ role: 'user', content: 'later' })
      headers['x-tenant'] = 'changed'
      expect(a.calls).toEqual([
        {
          model: 'm',
          request: { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 },
          apiKey: 'key-1',
          baseURL: 'https://one.example',
          headers: { 'x-tenant': 't1' },
          method: 'complete',
          aborted: false,
          returnedEarly: false,
        },
      ])
      expect(a.calls[0]?.request).not.toBe(sent)
    })

    it('marks a call aborted when its signal aborts, even after it answered', async () => {
      const controller = new AbortController()
      const a = mockProvider('a')
      await a.complete(request, contextOf({ signal: controller.signal }))
      expect(a.calls[0]?.aborted).toBe(false)
      controller.abort()
      expect(a.calls[0]?.aborted).toBe(true)
    })

    it('records stream calls with their method', async () => {
      const a = mockProvider('a')
      await readAll(a.stream(request, contextOf()))
      expect(a.calls[0]).toMatchObject({ method: 'stream', returnedEarly: false, aborted: false })
    })
  })

  describe('stream()', () => {
    it('streams an ok step as reasoning, text, tool-call deltas and finish', async () => {
      const a = mockProvider('a', {
        m: [
          {
            ok: 'Hi',
            reasoning: 'think',
            toolCalls: [{ name: 'f', arguments: '{}' }],
            finishReason: 'content_filter',
          },
        ],
      })
      expect(await readAll(a.stream(request, contextOf()))).toEqual([
        { type: 'reasoning', text: 'think' },
        { type: 'text', text: 'Hi' },
        { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'f', argumentsDelta: '{}' },
        {
          type: 'finish',
          finishReason: 'content_filter',
          usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
        },
      ])
    })

    it('streams chunks, each after its delay on the clock, then the finish event', async () => {
      const clock = fakeClock()
      const a = mockProvider(
        'a',
        {
          m: [
            {
              stream: [
                'Hel',
                { type: 'text', text: 'lo', delayMs: 50 },
                { type: 'tool-call-delta', index: 0, name: 'f', argumentsDelta: '{}' },
              ],
              delayMs: 200,
            },
          ],
        },
        { clock },
      )
      const iterator = a.stream(request, contextOf())[Symbol.asyncIterator]()
      const first = iterator.next()
      expect(await stateOf(first)).toBe('pending')
      await clock.advance(200)
      expect(await first).toEqual({ done: false, value: { type: 'text', text: 'Hel' } })
      const second = iterator.next()
      await clock.advance(49)
      expect(await stateOf(second)).toBe('pending')
      await clock.advance(1)
      expect(await second).toEqual({ done: false, value: { type: 'text', text: 'lo' } })
      expect((await iterator.next()).value).toMatchObject({ type: 'tool-call-delta', index: 0 })
      expect((await iterator.next()).value).toEqual({
        type: 'finish',
        finishReason: 'tool_calls',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      })
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
      expect(clock.pending()).toBe(0)
    })

    it('ends a no-terminal stream without its finish event', async () => {
      const a = mockProvider('a', { m: [{ stream: ['a', 'b'], end: 'no-terminal' }] })
      expect(await readAll(a.stream(request, contextOf()))).toEqual([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ])
    })

    it('fails in the middle of a stream, after its chunks, with the given kind', async () => {
      const a = mockProvider('a', {
        m: [{ stream: ['a', 'b'], end: { fail: 'overloaded', status: 529 } }],
      })
      const seen: ProviderStreamEvent[] = []
      const iterator = a.stream(request, contextOf())[Symbol.asyncIterator]()
      seen.push((await iterator.next()).value as ProviderStreamEvent)
      seen.push((await iterator.next()).value as ProviderStreamEvent)
      const error = await rejectionOf(iterator.next())
      expect(seen).toEqual([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ])
      expect(error).toMatchObject({ kind: 'overloaded', status: 529 })
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    it('fails lazily: stream() returns an iterable whose first read rejects', async () => {
      const a = mockProvider('a', {
        m: [{ failOnRead: 'rate_limit', status: 429, retryAfterMs: 3_000 }],
      })
      const events = a.stream(request, contextOf())
      const error = await rejectionOf(events[Symbol.asyncIterator]().next())
      expect(error).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 3_000 })
    })

    it('throws a fail or throws step from stream() itself, eagerly', () => {
      const a = mockProvider('a', { m: [{ fail: 'auth', status: 401 }], n: [{ throws: 'bad' }] })
      expect(() => a.stream(request, contextOf())).toThrow(UnderstudyError)
      let thrown: unknown
      try {
        a.stream({ ...request, model: 'n' }, contextOf())
      } catch (error) {
        thrown = error
      }
      expect(thrown).toEqual(new Error('bad'))
      expect(isUnderstudyError(thrown)).toBe(false)
      expect(a.calls.map((call) => call.method)).toEqual(['stream', 'stream'])
    })

    it('fails on the first read, after the delay, when a fail step has delayMs', async () => {
      const clock = fakeClock()
      const a = mockProvider('a', { m: [{ fail: 'timeout', delayMs: 300 }] }, { clock })
      const read = a.stream(request, contextOf())[Symbol.asyncIterator]().next()
      const result = await clock.settle(read)
      expect(clock.now()).toBe(300)
      expect(result.status === 'rejected' && isUnderstudyError(result.reason, 'timeout')).toBe(true)
    })

    it('hangs on the first read until the signal aborts, then rejects with kind aborted', async () => {
      const controller = new AbortController()
      const a = mockProvider('a', { m: [{ hang: true }] })
      const read = a
        .stream(request, contextOf({ signal: controller.signal }))
        [Symbol.asyncIterator]()
        .next()
      expect(await stateOf(read)).toBe('pending')
      controller.abort()
      expect(isUnderstudyError(await rejectionOf(read), 'aborted')).toBe(true)
      expect(a.calls[0]?.aborted).toBe(true)
    })

    it('rejects the waiting read with kind aborted when the signal aborts during a chunk delay, then stops', async () => {
      const clock = fakeClock()
      const controller = new AbortController()
      const a = mockProvider(
        'a',
        { m: [{ stream: ['a', { type: 'text', text: 'b', delayMs: 1_000 }] }] },
        { clock },
      )
      const iterator = a
        .stream(request, contextOf({ signal: controller.signal }))
        [Symbol.asyncIterator]()
      expect((await iterator.next()).value).toEqual({ type: 'text', text: 'a' })
      const read = iterator.next()
      await clock.advance(10)
      controller.abort()
      expect(isUnderstudyError(await rejectionOf(read), 'aborted')).toBe(true)
      expect(clock.pending()).toBe(0)
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    it('rejects the next read with kind aborted when the signal aborted between reads', async () => {
      const controller = new AbortController()
      const a = mockProvider('a', { m: [{ stream: ['a', 'b'] }] })
      const iterator = a
        .stream(request, contextOf({ signal: controller.signal }))
        [Symbol.asyncIterator]()
      await iterator.next()
      controller.abort()
      expect(isUnderstudyError(await rejectionOf(iterator.next()), 'aborted')).toBe(true)
      expect(await iterator.next()).toEqual({ done: true, value: undefined })
    })

    it('records an early return() and ends the read waiting on the clock at once', async () => {
      const clock = fakeClock()
      const a = mockProvider(
        'a',
        { m: [{ stream: ['a', { type: 'text', text: 'b', delayMs: 1_000 }] }] },
        { clock },
      )
      const iterator = a.stream(request, contextOf())[Symbol.asyncIterator]()
      await iterator.next()
      const read = iterator.next()
      expect(await iterator.return?.()).toEqual({ done: true, value: undefined })
      expect(await read).toEqual({ done: true, value: undefined })
      expect(a.calls[0]?.returnedEarly).toBe(true)
      expect(clock.pending()).toBe(0)
    })

    it('records a break out of for await as an early return, and a full read as none', async () => {
      const a = mockProvider('a', { m: [{ stream: ['a', 'b', 'c'] }] })
      for await (const event of a.stream(request, contextOf())) {
        if (event.type === 'text') break
      }
      await readAll(a.stream(request, contextOf()))
      expect(a.calls.map((call) => call.returnedEarly)).toEqual([true, false])
    })
  })

  describe('hostile', () => {
    const fresh = (): ChatRequest & Record<string, unknown> => ({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      stop: ['END'],
      temperature: 0.1,
      providerOptions: { a: { flag: false } },
    })

    it('rewrites the request and the headers it is given, and records what it received', async () => {
      const a = hostileMockProvider('a', { m: [{ ok: 'still scripted' }] })
      const sent = fresh()
      const headers: Record<string, string> = { authorization: 'Bearer k' }
      const response = await a.complete(sent, contextOf({ headers }))
      expect(response.text).toBe('still scripted')
      expect(sent.model).toBe('hostile/rewritten')
      expect(sent.messages).not.toContainEqual({ role: 'system', content: 'be brief' })
      expect(sent.messages.at(-1)).toEqual({
        role: 'user',
        content: 'rewritten by hostileMockProvider',
      })
      expect(sent.temperature).toBe(1.99)
      expect(sent.maxTokens).toBe(1)
      expect('tools' in sent).toBe(false)
      expect('stop' in sent).toBe(false)
      expect(sent.providerOptions).toEqual({ a: { flag: false, hostile: true } })
      expect(headers).toEqual({ 'x-hostile': 'rewritten by hostileMockProvider' })
      expect(a.calls[0]?.request).toEqual(fresh())
      expect(a.calls[0]?.headers).toEqual({ authorization: 'Bearer k' })
    })

    it('is the option hostile: true of mockProvider, and skips the writes a frozen input refuses', async () => {
      const a = mockProvider('a', { m: [{ fail: 'server' }] }, { hostile: true })
      const sent = deepFreeze(fresh())
      const headers = Object.freeze({ authorization: 'Bearer k' })
      const error = await rejectionOf(a.complete(sent, contextOf({ headers })))
      expect(isUnderstudyError(error, 'server')).toBe(true)
      expect(sent).toEqual(fresh())
      expect(headers).toEqual({ authorization: 'Bearer k' })
    })

    it('rewrites a streamed request too, and still streams per its script', async () => {
      const a = hostileMockProvider('a', { m: [{ stream: ['x'] }] })
      const sent = fresh()
      const events = await readAll(a.stream(sent, contextOf()))
      expect(events.map((event) => event.type)).toEqual(['text', 'finish'])
      expect(sent.model).toBe('hostile/rewritten')
    })

    it('shows up in the next attempt of a naive loop that hands every attempt the same request', async () => {
      const primary = hostileMockProvider('a', { m: [{ fail: 'server' }] })
      const backup = mockProvider('b')
      const shared = fresh()
      // The naive loop: the primary fails, the backup is called with the same request value.
      expect(
        isUnderstudyError(await rejectionOf(primary.complete(shared, contextOf())), 'server'),
      ).toBe(true)
      await backup.complete(shared, contextOf())
      expect(backup.calls[0]?.request.model).toBe('hostile/rewritten')
      expect(backup.calls[0]?.request).not.toEqual(fresh())
    })

    it("cannot reach the next attempt through core's client: retries and fallbacks get a clean request", async () => {
      const clock = fakeClock()
      const primary = hostileMockProvider('a', { m: [{ fail: 'server', status: 500 }] }, { clock })
      const backup = hostileMockProvider('b', { n: [{ ok: 'served by b' }] }, { clock })
      const client = createClient({
        providers: [primary, backup],
        clock,
        random: () => 0,
        retries: 1,
      })
      const sent = deepFreeze({ ...fresh(), model: 'a/m' })
      const fallbacks = deepFreeze([
        {
          model: 'b/n',
          apiKey: 'key-b',
          headers: { 'x-tenant': 'b' },
          params: { temperature: 0.7 },
        },
      ] satisfies TargetObject[])

      for (let call = 0; call < 2; call++) {
        const result = await clock.settle(client.complete(sent, { fallbacks, apiKey: 'key-a' }))
        expect(result.status === 'fulfilled' && result.value.text).toBe('served by b')
      }

      const expected = { ...fresh(), model: 'm' }
      expect(primary.calls).toHaveLength(4)
      for (const call of primary.calls) {
        expect(call.request).toEqual(expected)
        expect(call.apiKey).toBe('key-a')
        expect(call.headers).toBeUndefined()
      }
      expect(backup.calls).toHaveLength(2)
      for (const call of backup.calls) {
        expect(call.request).toEqual({ ...expected, model: 'n', temperature: 0.7 })
        expect(call.apiKey).toBe('key-b')
        expect(call.headers).toEqual({ 'x-tenant': 'b' })
      }
      expect(sent).toEqual({ ...fresh(), model: 'a/m' })
      expect(fallbacks[0]?.headers).toEqual({ 'x-tenant': 'b' })
      expect(clock.pending()).toBe(0)
    })
  })

  describe('assistantPrefix', () => {
    it('declares assistantPrefix only when asked, and checks the option', () => {
      expect(mockProvider('a').assistantPrefix).toBeUndefined()
      expect(mockProvider('a', {}, { assistantPrefix: false }).assistantPrefix).toBeUndefined()
      expect(mockProvider('a', {}, { assistantPrefix: true }).assistantPrefix).toBe(true)
      expect(hostileMockProvider('a', {}, { assistantPrefix: true }).assistantPrefix).toBe(true)
      const error = configErrorOf(() =>
        mockProvider('a', {}, { assistantPrefix: 'yes' as unknown as boolean }),
      )
      expect(error.path).toBe('mockProvider("a").options.assistantPrefix')
    })

    it('is handed an interrupted answer to continue, and records the prefix it was sent', async () => {
      const a = mockProvider('a', { m: [{ stream: ['Hel', 'lo, '], end: { fail: 'network' } }] })
      const b = mockProvider('b', { n: [{ stream: ['world.'] }] }, { assistantPrefix: true })
      const client = createClient({ providers: [a, b], retries: 0, health: { cooldownMs: 0 } })
      const stream = client.stream(
        { model: 'a/m', messages: [{ role: 'user', content: 'hi' }] },
        { fallbacks: ['b/n'], midStream: 'continue' },
      )
      let text = ''
      for await (const event of stream) if (event.type === 'text') text += event.text
      const response = await stream.response
      expect(text).toBe('Hello, world.')
      expect(response.text).toBe('Hello, world.')
      expect(b.calls[0]?.request.messages).toEqual([
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Hello, ' },
      ])
    })

    it('is passed over for continuation without it, with the reason in the trace', async () => {
      const a = mockProvider('a', { m: [{ stream: ['Hel', 'lo, '], end: { fail: 'network' } }] })
      const b = mockProvider('b', { n: [{ stream: ['world.'] }] })
      const client = createClient({ providers: [a, b], retries: 0, health: { cooldownMs: 0 } })
      const stream = client.stream(
        { model: 'a/m', messages: [{ role: 'user', content: 'hi' }] },
        { fallbacks: ['b/n'], midStream: 'continue' },
      )
      const error = await rejectionOf(stream.response)
      expect(isUnderstudyError(error, 'stream_interrupted')).toBe(true)
      expect((error as UnderstudyError).partial?.text).toBe('Hello, ')
      expect(b.calls).toHaveLength(0)
      expect((error as UnderstudyError).attempts.at(-1)).toMatchObject({
        target: 'b/n',
        outcome: 'skipped',
        error: { kind: 'unsupported', message: expect.stringMatching(/assistant prefix/) },
      })
    })
  })

  describe('closing a stream under a pending read', () => {
    it('settles a read waiting for its first token with kind aborted at once when the context aborts, clearing its timer', async () => {
      const clock = fakeClock()
      const controller = new AbortController()
      const a = mockProvider('a', { m: [{ stream: ['late'], delayMs: 60_000 }] }, { clock })
      const read = a
        .stream(request, contextOf({ signal: controller.signal }))
        [Symbol.asyncIterator]()
        .next()
      expect(await stateOf(read)).toBe('pending')
      controller.abort()
      expect(await stateOf(read)).toBe('rejected')
      expect(isUnderstudyError(await rejectionOf(read), 'aborted')).toBe(true)
      expect(clock.pending()).toBe(0)
      expect(clock.now()).toBe(0)
    })

    it('ends a read hanging until abort at once on return(), before any abort', async () => {
      const a = mockProvider('a', { m: [{ hang: true }] })
      const iterator = a.stream(request, contextOf())[Symbol.asyncIterator]()
      const read = iterator.next()
      expect(await stateOf(read)).toBe('pending')
      await iterator.return?.()
      expect(await stateOf(read)).toBe('fulfilled')
      expect(await read).toEqual({ done: true, value: undefined })
      expect(a.calls[0]).toMatchObject({ returnedEarly: true, aborted: false })
    })

    it("is closed by core's client when a hedge is lost: the loser's read settles and its signal aborts", async () => {
      const clock = fakeClock()
      const a = mockProvider('a', { m: [{ hang: true }] }, { clock })
      const b = mockProvider('b', { n: [{ stream: ['fast'] }] }, { clock })
      const client = createClient({
        providers: [a, b],
        clock,
        retries: 0,
        health: { cooldownMs: 0 },
      })
      const stream = client.stream(
        { model: 'a/m', messages: [{ role: 'user', content: 'hi' }] },
        { fallbacks: ['b/n'], hedgeAfterMs: 100 },
      )
      const result = await clock.settle(stream.response)
      expect(result.status === 'fulfilled' && result.value.text).toBe('fast')
      expect(a.calls[0]).toMatchObject({ aborted: true, returnedEarly: true })
      expect(result.status === 'fulfilled' && result.value.attempts).toMatchObject([
        { target: 'a/m', outcome: 'hedged' },
        { target: 'b/n', outcome: 'ok' },
      ])
      expect(clock.pending()).toBe(0)
    })
  })

  it('defaults to the system clock for delays', async () => {
    const a = mockProvider('a', { m: [{ ok: 'real', delayMs: 1 }] })
    expect((await a.complete(request, contextOf())).text).toBe('real')
  })
})
