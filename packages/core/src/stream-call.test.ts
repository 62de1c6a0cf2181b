import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { Attempt } from './errors.js'
import { request } from './test-support/client-setup.js'
import { settle } from './test-support/settle.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { createClient } from './create-client.js'
import { type StreamScript, streamProvider } from './test-support/stream-provider.js'
import { streamSetup } from './test-support/stream-setup.js'

const outcomes = (attempts: readonly Attempt[] | undefined): string[] =>
  (attempts ?? []).map(
    (attempt) =>
      `${attempt.target} ${attempt.outcome}${attempt.error === undefined ? '' : ` ${attempt.error.kind}`}`,
  )

const start = (target: string) => {
  const [provider, model] = target.split('/')
  return { type: 'start', target, provider, model }
}

describe('client.stream, before the first content', () => {
  const failures = [
    { behaviour: 'an HTTP error', script: { end: { fail: 'server', status: 500 } } },
    { behaviour: 'a stream() that throws', script: { throws: new Error('socket hang up') } },
    { behaviour: 'a stream that ends with nothing in it', script: { end: 'none' } },
    { behaviour: 'a stream that finishes with no content', script: { chunks: [''] } },
    {
      behaviour: 'a stream whose only events are empty',
      script: { chunks: ['', { type: 'reasoning', text: '' }], end: 'none' },
    },
  ] as const

  for (const { behaviour, script } of failures) {
    it(`falls back after ${behaviour}, and the caller sees only the fallback`, async () => {
      const { run, b } = streamSetup({
        a: { m1: [script] },
        b: { m2: [{ chunks: ['Hel', 'lo'] }] },
      })
      const result = await run({ fallbacks: ['b/m2'], retries: 0 })
      expect(result.error).toBeUndefined()
      expect(result.events).toEqual([
        start('b/m2'),
        { type: 'text', text: 'Hel' },
        { type: 'text', text: 'lo' },
        {
          type: 'finish',
          finishReason: 'stop',
          usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 },
        },
      ])
      expect(result.response.value?.text).toBe('Hello')
      expect(result.response.value?.target).toBe('b/m2')
      expect(outcomes(result.response.value?.attempts)[1]).toBe('b/m2 ok')
      expect(b.streams).toHaveLength(1)
    })
  }

  it('retries the same target with backoff before falling back', async () => {
    const { run, a, clock } = streamSetup({
      a: { m1: [{ end: { fail: 'overloaded', status: 503 } }, { chunks: ['second try'] }] },
    })
    const begun = clock.now()
    const result = await run({ fallbacks: ['b/m2'], backoff: { initialDelayMs: 100 } })
    expect(result.text).toBe('second try')
    expect(outcomes(result.response.value?.attempts)).toEqual(['a/m1 error overloaded', 'a/m1 ok'])
    expect(a.streams.map((stream) => stream.at - begun)).toEqual([0, 0])
  })

  it('honours Retry-After before retrying', async () => {
    const { run, a, clock } = streamSetup({
      a: { m1: [{ end: { fail: 'rate_limit', status: 429, retryAfterMs: 700 } }, {}] },
    })
    const begun = clock.now()
    await run()
    expect(a.streams.map((stream) => stream.at - begun)).toEqual([0, 700])
  })

  it('fails a first-token timeout over to the next target and closes the slow one', async () => {
    const { run, a } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'late', delayMs: 5_000 }] }] },
    })
    const result = await run({ fallbacks: ['b/m2'], retries: 0, firstTokenTimeoutMs: 1_000 })
    expect(result.text).toBe('b/m2 ok')
    const [first] = result.response.value?.attempts ?? []
    expect(first).toMatchObject({ outcome: 'error', error: { kind: 'timeout' }, durationMs: 1_000 })
    expect(first?.error?.message).toContain('firstTokenTimeoutMs')
    expect(a.streams[0]).toMatchObject({ aborted: true, closedEarly: true })
  })

  it('moves on from a provider whose stream ignores its abort and never answers', async () => {
    const { clock } = streamSetup()
    const deaf = {
      id: 'deaf',
      complete: () => new Promise<never>(() => {}),
      stream: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }),
      }),
    }
    const client = createClient({
      providers: [deaf, streamProvider('b', {}, clock)],
      clock,
    })
    const { settle } = await import('./test-support/settle.js')
    const stream = client.stream(
      { model: 'deaf/m', messages: [{ role: 'user', content: 'hi' }] },
      { fallbacks: ['b/m2'], firstTokenTimeoutMs: 500 },
    )
    const response = await settle(clock, stream.response)
    expect(response).toMatchObject({ status: 'fulfilled', value: { text: 'b/m2 ok' } })
    expect(clock.pending()).toBe(0)
  })

  it('applies attemptTimeoutMs up to the first content', async () => {
    const { run } = streamSetup({ a: { m1: [{ end: 'hang' }] } })
    const result = await run({ fallbacks: ['b/m2'], retries: 0, attemptTimeoutMs: 300 })
    expect(result.response.value?.attempts[0]).toMatchObject({
      error: { kind: 'timeout' },
      durationMs: 300,
    })
  })

  it('stops at once on invalid_request, showing nothing', async () => {
    const { run, b } = streamSetup({
      a: { m1: [{ end: { fail: 'invalid_request', status: 400 } }] },
    })
    const result = await run({ fallbacks: ['b/m2'] })
    expect(result.events).toEqual([])
    expect(result.error?.kind).toBe('invalid_request')
    expect(result.response.reason).toBe(result.error)
    expect(b.streams).toHaveLength(0)
  })

  it('fails with all_failed and every attempt when the chain runs out', async () => {
    const { run } = streamSetup({
      a: { m1: [{ end: { fail: 'server', status: 500 } }] },
      b: { m2: [{ end: 'none' }] },
    })
    const result = await run({ fallbacks: ['b/m2'], retries: 0 })
    expect(result.events).toEqual([])
    expect(result.error?.kind).toBe('all_failed')
    expect(outcomes(result.error?.attempts)).toEqual(['a/m1 error server', 'b/m2 error incomplete'])
  })

  it('moves a filtered answer to the content-policy chain, and keeps it when nothing is left', async () => {
    const { run } = streamSetup({
      a: { m1: [{ finishReason: 'content_filter' }] },
      b: { m2: [{ finishReason: 'content_filter' }] },
    })
    const result = await run({ contentPolicyFallbacks: ['b/m2'] })
    expect(result.events.map((event) => event.type)).toEqual(['start', 'finish'])
    expect(result.response.value?.finishReason).toBe('content_filter')
    expect(outcomes(result.response.value?.attempts)).toEqual([
      'a/m1 error content_policy',
      'b/m2 error content_policy',
    ])
  })

  it('takes an answer cut to nothing by its length limit as the answer', async () => {
    const { run } = streamSetup({ a: { m1: [{ finishReason: 'length' }] } })
    const result = await run({ fallbacks: ['b/m2'] })
    expect(result.events.map((event) => event.type)).toEqual(['start', 'finish'])
    expect(result.response.value?.finishReason).toBe('length')
  })

  it('throws a ConfigError from stream() itself, before any I/O', () => {
    const { client, a } = streamSetup()
    expect(() => client.stream(request, { midStream: 'retry' as 'fail' })).toThrow(
      expect.objectContaining({ kind: 'config', path: 'midStream' }),
    )
    expect(() => client.stream(request, { idleTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ kind: 'config', path: 'idleTimeoutMs' }),
    )
    expect(a.streams).toHaveLength(0)
  })

  it('sends nothing until the stream is read', async () => {
    const { client, a, read } = streamSetup()
    const stream = client.stream(request)
    await Promise.resolve()
    expect(a.streams).toHaveLength(0)
    expect((await read(stream)).text).toBe('a/m1 ok')
  })
})

describe('client.stream, after the first content', () => {
  it('ends with stream_interrupted carrying exactly what was delivered, and does not fall back', async () => {
    const { run, b } = streamSetup({
      a: { m1: [{ chunks: ['Hel', 'lo'], end: { fail: 'network' } }] },
    })
    const result = await run({ fallbacks: ['b/m2'] })
    expect(result.events).toEqual([
      start('a/m1'),
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
    ])
    expect(result.error).toMatchObject({
      kind: 'stream_interrupted',
      partial: { text: 'Hello', toolCalls: [] },
      cause: { kind: 'network' },
    })
    expect(outcomes(result.error?.attempts)).toEqual(['a/m1 error stream_interrupted'])
    expect(result.response.reason).toBe(result.error)
    expect(b.streams).toHaveLength(0)
  })

  it("keeps the call's keys out of an interruption: message, cause, partial and JSON", async () => {
    const secret = 'sk-stream-secret-4711'
    const echoing = {
      id: 'echo',
      complete: () => Promise.reject(new Error('unused')),
      async *stream() {
        yield { type: 'text' as const, text: 'Hel' }
        throw new Error(`upstream said: invalid key ${secret}`)
      },
    }
    const { clock } = streamSetup()
    const echoClient = createClient({ providers: [echoing], clock })
    const stream = echoClient.stream(
      { model: 'echo/m', messages: [{ role: 'user', content: 'hi' }] },
      { apiKey: secret },
    )
    const { settle } = await import('./test-support/settle.js')
    const settled = await settle(clock, stream.response)
    expect(settled.status).toBe('rejected')
    const error = settled.status === 'rejected' ? (settled.reason as Error) : undefined
    expect(error).toMatchObject({ kind: 'stream_interrupted', partial: { text: 'Hel' } })
    const seen = [
      error?.message,
      String((error?.cause as Error | undefined)?.message),
      JSON.stringify(error),
      error?.stack,
    ].join('\n')
    expect(seen).not.toContain(secret)
  })

  it("puts a provider's state in the response's message, not in the caller's events, and copies it", async () => {
    const state = { provider: 'stateful', origin: 'stateful/m@1', data: { blocks: ['sig'] } }
    const stateful = {
      id: 'stateful',
      complete: () => Promise.reject(new Error('unused')),
      async *stream() {
        yield { type: 'text' as const, text: 'Hi' }
        yield {
          type: 'finish' as const,
          finishReason: 'stop' as const,
          usage: {},
          providerState: state,
        }
      },
    }
    const { clock } = streamSetup()
    const client = createClient({ providers: [stateful], clock })
    const stream = client.stream({
      model: 'stateful/m',
      messages: [{ role: 'user', content: 'hi' }],
    })
    const events: unknown[] = []
    for await (const event of stream) events.push(event)
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: {} })
    const response = await stream.response
    expect(response.message).toEqual({ role: 'assistant', content: 'Hi', providerState: state })
    expect(response.message.providerState).not.toBe(state)
  })

  it('reports a body that ends without its terminal signal as interrupted, never a finish', async () => {
    const { run } = streamSetup({ a: { m1: [{ chunks: ['Hel'], end: 'none' }] } })
    const result = await run()
    expect(result.events.map((event) => event.type)).toEqual(['start', 'text'])
    expect(result.error).toMatchObject({
      kind: 'stream_interrupted',
      cause: { kind: 'incomplete' },
    })
  })

  it('carries partial tool calls assembled from their deltas', async () => {
    const { run } = streamSetup({
      a: {
        m1: [
          {
            chunks: [
              {
                type: 'tool-call-delta',
                index: 0,
                id: 'call_1',
                name: 'get',
                argumentsDelta: '{"ci',
              },
              { type: 'tool-call-delta', index: 0, argumentsDelta: 'ty":' },
            ],
            end: { fail: 'server' },
          },
        ],
      },
    })
    const result = await run()
    expect(result.error?.partial?.toolCalls).toEqual([
      { id: 'call_1', name: 'get', arguments: '{"city":' },
    ])
  })

  it('ends an idle stream with a timeout as the cause, timing from the last content', async () => {
    const { run, a } = streamSetup({
      a: {
        m1: [{ chunks: ['a', { type: 'text', text: 'b', delayMs: 900 }, { wait: 5_000 }] }],
      },
    })
    const result = await run({ idleTimeoutMs: 1_000 })
    expect(result.text).toBe('ab')
    expect(result.error).toMatchObject({ kind: 'stream_interrupted', cause: { kind: 'timeout' } })
    expect(result.error?.attempts[0]?.durationMs).toBe(1_900)
    expect(a.streams[0]?.closedEarly).toBe(true)
  })

  it('ends with kind deadline and the partial answer when the call timeout runs out', async () => {
    const { run } = streamSetup({
      a: { m1: [{ chunks: ['a', { type: 'text', text: 'b', delayMs: 2_000 }] }] },
    })
    const result = await run({ timeoutMs: 1_000 })
    expect(result.error).toMatchObject({ kind: 'deadline', partial: { text: 'a' } })
  })

  it('assembles text, tool calls and usage into the response', async () => {
    const { run } = streamSetup({
      a: {
        m1: [
          {
            chunks: [
              { type: 'reasoning', text: 'think' },
              'It is ',
              { type: 'tool-call-delta', index: 0, id: 'c1', name: 'f', argumentsDelta: '{}' },
            ],
          },
        ],
      },
    })
    const { response } = await run()
    expect(response.value).toMatchObject({
      text: 'It is ',
      reasoning: 'think',
      toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }],
      message: { role: 'assistant', content: 'It is ', toolCalls: [{ id: 'c1' }] },
      finishReason: 'tool_calls',
      usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 },
    })
    expect(Object.isFrozen(response.value)).toBe(true)
  })
})

describe('client.stream, cancelled', () => {
  it('closes the upstream when the caller leaves the loop, and rejects response as aborted', async () => {
    const { client, read, a } = streamSetup({
      a: { m1: [{ chunks: ['one', 'two', 'three'] }] },
    })
    const result = await read(client.stream(request), 2)
    expect(result.error).toBeUndefined()
    expect(result.response.reason).toMatchObject({ kind: 'aborted', partial: { text: 'one' } })
    expect(a.streams[0]).toMatchObject({ closedEarly: true, aborted: true })
  })

  it('closes the upstream when the signal aborts mid-stream', async () => {
    const controller = new AbortController()
    const { client, read, a, clock } = streamSetup({
      a: { m1: [{ chunks: ['one', { type: 'text', text: 'two', delayMs: 1_000 }] }] },
    })
    clock.setTimeout(() => controller.abort(), 500)
    const result = await read(client.stream(request, { signal: controller.signal }))
    expect(result.text).toBe('one')
    expect(result.error).toMatchObject({ kind: 'aborted', partial: { text: 'one' } })
    expect(a.streams[0]?.closedEarly).toBe(true)
  })

  it('stops before the first content when the signal aborts, trying nothing else', async () => {
    const controller = new AbortController()
    const { client, read, a, b, clock } = streamSetup({ a: { m1: [{ end: 'hang' }] } })
    clock.setTimeout(() => controller.abort(), 500)
    const result = await read(
      client.stream(request, { signal: controller.signal, fallbacks: ['b/m2'] }),
    )
    expect(result.events).toEqual([])
    expect(result.error?.kind).toBe('aborted')
    expect(a.streams[0]?.closedEarly).toBe(true)
    expect(b.streams).toHaveLength(0)
  })

  it('sends nothing when the caller leaves while a slow health store is read', async () => {
    const { client, a, clock } = streamSetup(
      {},
      {
        health: {
          store: {
            cooldowns: () =>
              new Promise<(number | undefined)[]>((resolve) => {
                clock.setTimeout(() => resolve([]), 1_000)
              }),
            record: () => undefined,
          },
        },
      },
    )
    const stream = client.stream(request)
    const iterator = stream[Symbol.asyncIterator]()
    const first = iterator.next()
    await iterator.return?.()
    const settled = await settle(clock, first)
    expect(settled).toEqual({ status: 'fulfilled', value: { done: true, value: undefined } })
    expect((await settle(clock, stream.response)).status).toBe('rejected')
    expect(a.streams).toHaveLength(0)
    expect(clock.pending()).toBe(0)
  })

  it('rejects at once with a signal that is already aborted', async () => {
    const { client, read, a } = streamSetup()
    const result = await read(client.stream(request, { signal: AbortSignal.abort() }))
    expect(result.error?.kind).toBe('aborted')
    expect(a.streams).toHaveLength(0)
  })
})

describe('client.stream, the stream object', () => {
  it('reads itself to the end when only response is awaited', async () => {
    const { client, clock } = streamSetup({ a: { m1: [{ chunks: ['x', 'y'] }] } })
    const stream = client.stream(request)
    const { settle } = await import('./test-support/settle.js')
    const response = await settle(clock, stream.response)
    expect(response).toMatchObject({ status: 'fulfilled', value: { text: 'xy' } })
    expect(() => stream[Symbol.asyncIterator]()).toThrow(TypeError)
  })

  it('reads nothing when response is only taken, so a loop started later gets every event', async () => {
    const { client, read, a } = streamSetup({ a: { m1: [{ chunks: ['x', 'y'] }] } })
    const stream = client.stream(request)
    const taken = stream.response
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(a.streams).toHaveLength(0)
    const result = await read(stream)
    expect(result.text).toBe('xy')
    expect((await taken).text).toBe('xy')
  })

  it('leaves the events to a loop started in the same tick as response was awaited', async () => {
    const { client, clock } = streamSetup({ a: { m1: [{ chunks: ['x', 'y'] }] } })
    const stream = client.stream(request)
    const texts: string[] = []
    const loop = async (): Promise<void> => {
      for await (const event of stream) if (event.type === 'text') texts.push(event.text)
    }
    const { settle } = await import('./test-support/settle.js')
    const both = await settle(clock, Promise.all([stream.response, loop()]))
    expect(both.status).toBe('fulfilled')
    expect(texts).toEqual(['x', 'y'])
  })

  it('leaves the events to a loop started in the same tick as response was taken', async () => {
    const { client, read } = streamSetup({ a: { m1: [{ chunks: ['x', 'y'] }] } })
    const stream = client.stream(request)
    const pending = stream.response
    const result = await read(stream)
    expect(result.text).toBe('xy')
    expect((await pending).text).toBe('xy')
  })

  it('answers reads asked for at once in order, each with its own event', async () => {
    const { client, clock } = streamSetup({ a: { m1: [{ chunks: ['x', 'y'] }] } })
    const iterator = client.stream(request)[Symbol.asyncIterator]()
    const reads = Promise.all([1, 2, 3, 4, 5].map(() => iterator.next()))
    const { settle } = await import('./test-support/settle.js')
    const settled = await settle(clock, reads)
    expect(
      settled.status === 'fulfilled' && settled.value.map((read) => read.value?.type ?? 'done'),
    ).toEqual(['start', 'text', 'text', 'finish', 'done'])
  })

  it('leaves no unhandled rejection when a failed stream is only looped over', async () => {
    const unhandled: unknown[] = []
    const listener = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', listener)
    try {
      const { client, clock } = streamSetup({
        a: { m1: [{ chunks: ['x'], end: { fail: 'server' } }] },
      })
      const loop = async (): Promise<unknown> => {
        try {
          for await (const _ of client.stream(request)) {
            // Only the loop reads: `response` is never taken.
          }
        } catch (error) {
          return error
        }
        return undefined
      }
      const { settle } = await import('./test-support/settle.js')
      const thrown = await settle(clock, loop())
      expect(thrown).toMatchObject({ status: 'fulfilled', value: { kind: 'stream_interrupted' } })
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', listener)
    }
  })

  it('can be iterated only once', async () => {
    const { client, read } = streamSetup()
    const stream = client.stream(request)
    await read(stream)
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/only once/)
  })

  it('writes neither the request nor the options', async () => {
    const { run } = streamSetup(
      { a: { m1: [{ chunks: ['Hel'], end: { fail: 'network' } }] } },
      {},
      ['b'],
    )
    const options = deepFreeze({
      fallbacks: [{ model: 'b/m2', apiKey: 'key-b', params: { temperature: 0 } }],
      midStream: 'continue' as const,
    })
    const result = await run(options, deepFreeze(structuredClone(request)))
    expect(result.text).toBe('Helb/m2 ok')
  })
})

describe('client.stream with hedgeAfterMs', () => {
  it('starts the next target when the first is silent, and the first content wins', async () => {
    const { run, a, b, clock } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'slow', delayMs: 1_000 }] }] },
      b: { m2: [{ chunks: [{ type: 'text', text: 'fast', delayMs: 50 }] }] },
    })
    const begun = clock.now()
    const result = await run({ fallbacks: ['b/m2'], hedgeAfterMs: 200 })
    expect(result.events[0]).toEqual(start('b/m2'))
    expect(result.text).toBe('fast')
    expect(b.streams[0]?.at).toBe(begun + 200)
    expect(a.streams[0]).toMatchObject({ aborted: true, closedEarly: true })
    expect(outcomes(result.response.value?.attempts)).toEqual(['a/m1 hedged', 'b/m2 ok'])
    expect(result.response.value?.attempts[0]?.durationMs).toBe(250)
  })

  it('does not hedge an attempt that produces content in time', async () => {
    const { run, b } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'ok', delayMs: 100 }] }] },
    })
    const result = await run({ fallbacks: ['b/m2'], hedgeAfterMs: 200 })
    expect(result.text).toBe('ok')
    expect(b.streams).toHaveLength(0)
  })

  it('keeps the first attempt when the hedge fails, and lets the next target take its place', async () => {
    const { run, c, clock } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'late', delayMs: 1_000 }] }] },
      b: { m2: [{ end: { fail: 'server', status: 500 } }] },
      c: { m3: [{ chunks: [{ type: 'text', text: 'third', delayMs: 100 }] }] },
    })
    const begun = clock.now()
    const result = await run({ fallbacks: ['b/m2', 'c/m3'], hedgeAfterMs: 200, retries: 0 })
    expect(result.text).toBe('third')
    expect(c.streams[0]?.at).toBe(begun + 200)
    expect(outcomes(result.response.value?.attempts)).toEqual([
      'b/m2 error server',
      'a/m1 hedged',
      'c/m3 ok',
    ])
  })

  it('lets the first attempt win when it answers before the hedge does', async () => {
    const { run, b } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'first', delayMs: 300 }] }] },
      b: { m2: [{ chunks: [{ type: 'text', text: 'second', delayMs: 500 }] }] },
    })
    const result = await run({ fallbacks: ['b/m2'], hedgeAfterMs: 200 })
    expect(result.text).toBe('first')
    expect(b.streams[0]?.closedEarly).toBe(true)
    expect(outcomes(result.response.value?.attempts)).toEqual(['b/m2 hedged', 'a/m1 ok'])
  })

  it('starts both at once with hedgeAfterMs: 0', async () => {
    const { run, a, b } = streamSetup({
      a: { m1: [{ chunks: [{ type: 'text', text: 'a', delayMs: 20 }] }] },
      b: { m2: [{ chunks: [{ type: 'text', text: 'b', delayMs: 10 }] }] },
    })
    const result = await run({ fallbacks: ['b/m2'], hedgeAfterMs: 0 })
    expect(result.text).toBe('b')
    expect(a.streams[0]?.at).toBe(b.streams[0]?.at)
  })

  it('does not count a hedged loss against the loser’s health', async () => {
    const records: boolean[] = []
    const store = {
      cooldowns: () => [],
      record: (_key: string, record: { ok: boolean }) => {
        records.push(record.ok)
      },
    }
    const { run } = streamSetup(
      {
        a: { m1: [{ chunks: [{ type: 'text', text: 'slow', delayMs: 1_000 }] }] },
        b: { m2: [{ chunks: ['fast'] }] },
      },
      { health: { store } },
    )
    await run({ fallbacks: ['b/m2'], hedgeAfterMs: 100 })
    expect(records).toEqual([true])
  })
})

describe('client.stream, hooks and health', () => {
  it('reports each attempt, the fallback and the success once', async () => {
    const seen: string[] = []
    const { run } = streamSetup({ a: { m1: [{ end: { fail: 'server' } }] } })
    await run({
      fallbacks: ['b/m2'],
      retries: 0,
      hooks: {
        onAttempt: (attempt) => {
          seen.push(`attempt ${attempt.target} ${attempt.outcome}`)
        },
        onFallback: (event) => {
          seen.push(`fallback to ${event.to}`)
        },
        onSuccess: (response) => {
          seen.push(`success ${response.target}`)
        },
        onFailure: () => {
          seen.push('failure')
        },
      },
    })
    expect(seen).toEqual([
      'attempt a/m1 error',
      'fallback to b/m2',
      'attempt b/m2 ok',
      'success b/m2',
    ])
  })

  it('reports an interruption to onFailure once, with the partial answer', async () => {
    const failures: unknown[] = []
    const { run } = streamSetup({ a: { m1: [{ chunks: ['x'], end: { fail: 'server' } }] } })
    await run({ hooks: { onFailure: (error) => void failures.push(error.partial) } })
    expect(failures).toEqual([{ text: 'x', toolCalls: [], usage: {} }])
  })

  it('counts an interruption against health as its cause does', async () => {
    const records: { ok: boolean }[] = []
    const store = {
      cooldowns: () => [],
      record: (_key: string, record: { ok: boolean }) => void records.push({ ok: record.ok }),
    }
    const { run } = streamSetup(
      {
        a: {
          m1: [
            { chunks: ['x'], end: { fail: 'server' } },
            { chunks: ['x'], end: { fail: 'invalid_request' } },
          ],
        },
      },
      { health: { store } },
    )
    await run()
    await run()
    expect(records).toEqual([{ ok: false }])
  })
})

describe('client.stream, for any failure script', () => {
  const kinds = [
    'server',
    'overloaded',
    'network',
    'auth',
    'invalid_request',
    'rate_limit',
  ] as const
  /** One attempt: fails before content, or streams pieces of its own letters and then finishes or fails. */
  const attemptScript = (letter: string): fc.Arbitrary<StreamScript> =>
    fc.oneof(
      fc.record({ end: fc.record({ fail: fc.constantFrom(...kinds) }) }),
      fc.record({
        chunks: fc.array(
          fc.oneof(
            fc.integer({ min: 1, max: 3 }).map((n) => letter.repeat(n)),
            fc.constant(''),
            fc
              .integer({ min: 1, max: 2_000 })
              .map((delayMs) => ({ type: 'text' as const, text: letter.toUpperCase(), delayMs })),
          ),
          { maxLength: 5 },
        ),
        end: fc.oneof(
          fc.constant<'finish'>('finish'),
          fc.constant<'none'>('none'),
          fc.record({ fail: fc.constantFrom(...kinds) }),
        ),
      }),
    )
  /** Each attempt streams its own letter (a or d for a/m1's first or second attempt…), so a mix shows. */
  const scriptsFor = (letters: string, model: string) =>
    fc
      .tuple(attemptScript(letters[0] as string), attemptScript(letters[1] as string))
      .chain(([first, second]) => fc.constantFrom([first], [first, second]))
      .map((list) => ({ [model]: list }))
  /** The text an attempt's script streams in full. */
  const textOf = (script: StreamScript | undefined): string =>
    (script?.chunks ?? [])
      .map((chunk) => (typeof chunk === 'string' ? chunk : 'text' in chunk ? chunk.text : ''))
      .join('')

  test.prop(
    [
      scriptsFor('ad', 'm1'),
      scriptsFor('be', 'm2'),
      scriptsFor('cf', 'm3'),
      fc.record(
        {
          hedgeAfterMs: fc.integer({ min: 0, max: 1_500 }),
          firstTokenTimeoutMs: fc.integer({ min: 1, max: 3_000 }),
          idleTimeoutMs: fc.integer({ min: 1, max: 3_000 }),
          midStream: fc.constantFrom<'fail' | 'continue'>('fail', 'continue'),
        },
        { requiredKeys: [] },
      ),
    ],
    { numRuns: 150 },
  )(
    'delivers exactly one attempt’s text, or its delivered prefix, never a mix',
    async (a, b, c, extra) => {
      const { run } = streamSetup({ a, b, c }, {}, ['c'])
      const result = await run({ fallbacks: ['b/m2', 'c/m3'], ...extra })
      const starts = result.events.filter((event) => event.type === 'start')
      expect(starts.length).toBeLessThanOrEqual(1)
      if (starts.length === 0) {
        expect(result.events).toEqual([])
        expect(result.error).toBeDefined()
        return
      }
      expect(result.error?.partial?.text ?? result.text).toBe(result.text)
      if (result.error === undefined) {
        expect(result.response.value?.text).toBe(result.text)
        expect(result.events.at(-1)?.type).toBe('finish')
      } else {
        expect(result.events.some((event) => event.type === 'finish')).toBe(false)
      }
      if (extra.midStream !== 'continue') {
        // One attempt's letter only, and that attempt's text: all of it, or a prefix when interrupted.
        const letter = result.text.toLowerCase()[0]
        const scripts = { a: a.m1, d: a.m1, b: b.m2, e: b.m2, c: c.m3, f: c.m3 }
        const script =
          letter === undefined
            ? undefined
            : scripts[letter as keyof typeof scripts]?.['adbecf'.indexOf(letter) % 2]
        const full = textOf(script)
        if (result.error === undefined) expect(result.text).toBe(full)
        else expect(full.startsWith(result.text)).toBe(true)
      }
      for (const target of ['a/m1', 'b/m2', 'c/m3']) {
        const made = (result.response.value?.attempts ?? result.error?.attempts ?? []).filter(
          (attempt) => attempt.target === target && attempt.outcome !== 'skipped',
        )
        expect(made.length).toBeLessThanOrEqual(2)
      }
    },
  )
})
