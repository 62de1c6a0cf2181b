import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse, ProviderResponse } from './chat-response.js'
import { createClient } from './create-client.js'
import {
  type Attempt,
  type ErrorKind,
  errorKinds,
  isUnderstudyError,
  UnderstudyError,
} from './errors.js'
import type { FallbackEvent, HookName, Hooks, RetryEvent } from './hooks.js'
import type { CallOptions } from './options.js'
import { type PolicyKind, type PolicyOverrides, policyKinds } from './policy.js'
import type { Provider } from './provider.js'
import type { ProviderStreamEvent } from './stream-event.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { drain, settle } from './test-support/settle.js'
import { createTestClock } from './test-support/test-clock.js'

// complete() and stream() share one ledger (call-run.ts) up to the winner:
// whatever the policy and whatever the targets do before any content, both
// end the call the same way. These tests drive both with the same scripts.

/** What one attempt of a target does, played as `complete()` or as `stream()`. */
type Play =
  | { readonly type: 'ok'; readonly text: string }
  /** A 200 with no content and finish reason `content_filter`. */
  | { readonly type: 'filtered' }
  /** A 200 with no content cut at `length`: an answer, if an empty one. */
  | { readonly type: 'length' }
  /** A 200 with no content and finish reason `stop`: kind `empty`. */
  | { readonly type: 'empty' }
  | { readonly type: 'fail'; readonly kind: ErrorKind; readonly status?: number }
  /** An adapter bug: a `TypeError`. */
  | { readonly type: 'bug' }

type Scripts = Readonly<Record<string, readonly Play[]>>

/** A provider that plays `scripts[model][n]` at the model's n-th attempt (then `ok`), either way. */
function playingProvider(id: string, scripts: Scripts): Provider {
  const counts = new Map<string, number>()
  const next = (model: string): Play => {
    const n = counts.get(model) ?? 0
    counts.set(model, n + 1)
    return scripts[model]?.[n] ?? { type: 'ok', text: `${id}/${model} ok` }
  }
  const response = (text: string, finishReason: ProviderResponse['finishReason']) => ({
    text,
    message: { role: 'assistant' as const, content: text },
    toolCalls: [],
    finishReason,
    usage: {},
  })
  return {
    id,
    async complete(request: ChatRequest): Promise<ProviderResponse> {
      const play = next(request.model)
      switch (play.type) {
        case 'ok':
          return response(play.text, 'stop')
        case 'filtered':
          return response('', 'content_filter')
        case 'length':
          return response('', 'length')
        case 'empty':
          return response('', 'stop')
        case 'fail':
          throw failure(id, request.model, play)
        case 'bug':
          throw new TypeError(`cannot read properties of undefined (${id})`)
      }
    },
    async *stream(request: ChatRequest): AsyncIterable<ProviderStreamEvent> {
      const play = next(request.model)
      switch (play.type) {
        case 'ok':
          yield { type: 'text', text: play.text }
          yield { type: 'finish', finishReason: 'stop', usage: {} }
          return
        case 'filtered':
          yield { type: 'finish', finishReason: 'content_filter', usage: {} }
          return
        case 'length':
          yield { type: 'finish', finishReason: 'length', usage: {} }
          return
        case 'empty':
          yield { type: 'finish', finishReason: 'stop', usage: {} }
          return
        case 'fail':
          throw failure(id, request.model, play)
        case 'bug':
          throw new TypeError(`cannot read properties of undefined (${id})`)
      }
    },
  }
}

function failure(id: string, model: string, play: Extract<Play, { type: 'fail' }>) {
  return new UnderstudyError({
    kind: play.kind,
    message: `${id}/${model} failed with ${play.kind}`,
    provider: id,
    model,
    status: play.status,
  })
}

const request: ChatRequest = deepFreeze({
  model: 'a/m1',
  messages: [{ role: 'user', content: 'hi' }],
})

/** How a call ended, as its caller can compare it. */
interface Ending {
  readonly status: 'fulfilled' | 'rejected'
  readonly kind?: ErrorKind
  readonly message?: string
  readonly text?: string
  readonly finishReason?: string
  readonly target?: string
  readonly attempts: readonly string[]
  readonly hooks: readonly string[]
}

function describeAttempt(attempt: Attempt): string {
  const kind = attempt.error === undefined ? '' : ` ${attempt.error.kind}`
  return `${attempt.target} ${attempt.outcome}${kind}#${attempt.retry}`
}

function recordingHooks(into: string[]): Hooks {
  const note = (name: HookName) => (): void => {
    into.push(name)
  }
  return {
    onAttempt: note('onAttempt'),
    onRetry: note('onRetry'),
    onFallback: note('onFallback'),
    onSuccess: note('onSuccess'),
    onFailure: note('onFailure'),
  }
}

function ending(result: { value?: ChatResponse; reason?: unknown }, hooks: string[]): Ending {
  if (result.value !== undefined) {
    const { text, finishReason, target, attempts } = result.value
    return {
      status: 'fulfilled',
      text,
      finishReason,
      target,
      attempts: attempts.map(describeAttempt),
      hooks,
    }
  }
  const error = result.reason
  if (!isUnderstudyError(error)) throw new Error('not an UnderstudyError', { cause: error })
  return {
    status: 'rejected',
    kind: error.kind,
    message: error.message,
    attempts: error.attempts.map(describeAttempt),
    hooks,
  }
}

/** Runs one `complete()` and one `stream()` over fresh providers playing `scripts`. */
async function bothWays(scripts: { a: Scripts; b: Scripts }, options: CallOptions) {
  const run = async (way: 'complete' | 'stream'): Promise<Ending> => {
    const clock = createTestClock()
    const hooks: string[] = []
    const client = createClient({
      providers: [playingProvider('a', scripts.a), playingProvider('b', scripts.b)],
      clock,
      random: () => 0,
      health: { cooldownMs: 0 },
      hooks: recordingHooks(hooks),
    })
    if (way === 'complete') {
      const result = await settle(clock, client.complete(request, options))
      return ending(result.status === 'fulfilled' ? { value: result.value } : result, hooks)
    }
    const stream = client.stream(request, options)
    const reading = (async () => {
      for await (const _ of stream) {
        // Read to the end: `response` settles with it.
      }
    })()
    await settle(
      clock,
      reading.catch(() => undefined),
    )
    const result = await settle(clock, stream.response)
    await drain()
    expect(clock.pending()).toBe(0)
    return ending(result.status === 'fulfilled' ? { value: result.value } : result, hooks)
  }
  return { complete: await run('complete'), stream: await run('stream') }
}

const models = ['m1', 'm2'] as const
const targets = ['a/m1', 'a/m2', 'b/m1', 'b/m2'] as const

const playArbitrary: fc.Arbitrary<Play> = fc.oneof(
  fc.constant<Play>({ type: 'ok', text: 'answer' }),
  fc.constant<Play>({ type: 'filtered' }),
  fc.constant<Play>({ type: 'length' }),
  fc.constant<Play>({ type: 'empty' }),
  fc.constant<Play>({ type: 'bug' }),
  fc
    .record({
      kind: fc.constantFrom(...errorKinds),
      status: fc.option(fc.integer({ min: 400, max: 599 }), { nil: undefined }),
    })
    .map(
      ({ kind, status }): Play =>
        status === undefined ? { type: 'fail', kind } : { type: 'fail', kind, status },
    ),
)

const scriptsArbitrary: fc.Arbitrary<Scripts> = fc.record(
  Object.fromEntries(
    models.map((model) => [model, fc.array(playArbitrary, { maxLength: 3 })]),
  ) as Record<(typeof models)[number], fc.Arbitrary<Play[]>>,
)

/** The kinds the plays above produce most: overrides of these change what a call does. */
const playedKinds = [
  'rate_limit',
  'server',
  'unknown',
  'empty',
  'content_policy',
  'context_window',
  'invalid_request',
  'incomplete',
  'stream_interrupted',
] as const satisfies readonly PolicyKind[]

const ruleArbitrary = fc.record(
  { retry: fc.boolean(), fallback: fc.boolean() },
  { requiredKeys: [] },
)

/** Overrides of the played kinds, each present half the time, and now and then of any kind. */
const policyArbitrary: fc.Arbitrary<PolicyOverrides> = fc
  .tuple(
    fc.record(Object.fromEntries(playedKinds.map((kind) => [kind, ruleArbitrary])), {
      requiredKeys: [],
    }),
    fc.array(fc.tuple(fc.constantFrom(...policyKinds), ruleArbitrary), { maxLength: 2 }),
  )
  .map(([played, others]) => ({ ...Object.fromEntries(others), ...played }) as PolicyOverrides)

const chainArbitrary = fc.array(fc.constantFrom(...targets), { maxLength: 3 })

const optionsArbitrary: fc.Arbitrary<CallOptions> = fc.record(
  {
    fallbacks: chainArbitrary,
    contextWindowFallbacks: chainArbitrary,
    contentPolicyFallbacks: chainArbitrary,
    retries: fc.integer({ min: 0, max: 2 }),
    policy: policyArbitrary,
  },
  { requiredKeys: ['retries'] },
)

describe('complete() and stream() end every call the same way', () => {
  test.prop([scriptsArbitrary, scriptsArbitrary, optionsArbitrary], { numRuns: 300 })(
    'same outcome, kind, message, trace and hooks for every policy override and every outcome before the first content',
    async (a, b, options) => {
      const { complete, stream } = await bothWays({ a, b }, deepFreeze(options))
      expect(stream).toEqual(complete)
    },
    // 300 pairs of calls take about 2 s alone; a loaded 2-core machine may take several times that.
    60_000,
  )
})

describe('a filtered answer the policy does not move on from', () => {
  const scripts = { a: { m1: [{ type: 'filtered' } as const] }, b: {} }
  const options = deepFreeze({
    fallbacks: ['b/m1'],
    policy: { content_policy: { fallback: false } },
  } satisfies CallOptions)

  it('is the answer, in complete() and in stream() alike, with its trace', async () => {
    const { complete, stream } = await bothWays(scripts, options)
    expect(complete).toMatchObject({
      status: 'fulfilled',
      finishReason: 'content_filter',
      target: 'a/m1',
      attempts: ['a/m1 error content_policy#0'],
    })
    expect(stream).toEqual(complete)
  })

  it('is still not taken when a later target fails for good: that failure ends the call', async () => {
    const { complete, stream } = await bothWays(
      {
        a: { m1: [{ type: 'filtered' }] },
        b: { m1: [{ type: 'fail', kind: 'invalid_request', status: 400 }] },
      },
      deepFreeze({ fallbacks: ['b/m1'] }),
    )
    expect(complete).toMatchObject({ status: 'rejected', kind: 'invalid_request' })
    expect(stream).toEqual(complete)
  })
})

describe("a failed attempt's original error", () => {
  const bug = new TypeError('cannot read properties of undefined (reading "choices")')
  const buggy = (id: string): Provider => ({
    id,
    complete: () => Promise.reject(bug),
    stream: () => {
      throw bug
    },
  })

  async function call(way: 'complete' | 'stream', options: CallOptions = {}) {
    const clock = createTestClock()
    const seen: { attempts: Attempt[]; retries: RetryEvent[]; fallbacks: FallbackEvent[] } = {
      attempts: [],
      retries: [],
      fallbacks: [],
    }
    const client = createClient({
      providers: [buggy('a'), playingProvider('b', {})],
      clock,
      random: () => 0,
      hooks: {
        onAttempt: (attempt) => void seen.attempts.push(attempt),
        onRetry: (event) => void seen.retries.push(event),
        onFallback: (event) => void seen.fallbacks.push(event),
      },
    })
    const callOptions = deepFreeze({ fallbacks: ['b/m1'], ...options })
    const settled = await settle(
      clock,
      way === 'complete'
        ? client.complete(request, callOptions)
        : (async () => {
            const stream = client.stream(request, callOptions)
            for await (const _ of stream) {
              // read to the end
            }
            return stream.response
          })(),
    )
    if (settled.status !== 'fulfilled') throw new Error('expected the fallback to answer')
    return { response: settled.value, seen }
  }

  for (const way of ['complete', 'stream'] as const) {
    it(`is the cause of the attempt's error, reachable from its record and the hooks (${way})`, async () => {
      const { response, seen } = await call(way)
      expect(response.target).toBe('b/m1')
      const failed = response.attempts[0] as Attempt
      expect(failed.error?.kind).toBe('unknown')
      expect(isUnderstudyError(failed.cause, 'unknown')).toBe(true)
      expect(failed.cause?.cause).toBe(bug)
      expect(seen.attempts[0]?.cause?.cause).toBe(bug)
      expect(seen.fallbacks).toHaveLength(1)
      expect(seen.fallbacks[0]?.error.cause).toBe(bug)
      expect(seen.fallbacks[0]?.error).toBe(failed.cause)
    })

    it(`reaches onRetry too when the policy retries it (${way})`, async () => {
      const { seen } = await call(way, { retries: 1, policy: { unknown: { retry: true } } })
      expect(seen.retries).toHaveLength(1)
      expect(seen.retries[0]?.error.cause).toBe(bug)
    })

    it(`stays out of JSON and of spreads (${way})`, async () => {
      const { response } = await call(way)
      const failed = response.attempts[0] as Attempt
      expect(Object.keys(failed)).not.toContain('cause')
      const json = JSON.stringify(response)
      expect(json).not.toContain('"cause"')
      expect(json).not.toContain('TypeError')
      expect({ ...failed }).not.toHaveProperty('cause')
    })
  }

  it('keeps a secret the error carries out of the message, the JSON and the cause', async () => {
    const key = 'sk-secret-0123456789'
    const leaky: Provider = {
      id: 'a',
      complete: () => Promise.reject(new Error(`401 for key ${key}`)),
      stream: () => {
        throw new Error(`401 for key ${key}`)
      },
    }
    const clock = createTestClock()
    const client = createClient({ providers: [leaky, playingProvider('b', {})], clock })
    const settled = await settle(
      clock,
      client.complete(request, deepFreeze({ apiKey: key, fallbacks: ['b/m1'] })),
    )
    if (settled.status !== 'fulfilled') throw new Error('expected the fallback to answer')
    const failed = settled.value.attempts[0] as Attempt
    expect(failed.error?.message).not.toContain(key)
    expect(failed.cause?.message).not.toContain(key)
    const original = failed.cause?.cause
    expect(original).toBeInstanceOf(Error)
    expect((original as Error).message).not.toContain(key)
    expect((original as Error).stack).not.toContain(key)
    expect(JSON.stringify(settled.value)).not.toContain(key)
  })
})
