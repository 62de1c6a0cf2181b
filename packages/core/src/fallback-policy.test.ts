import { describe, expect, it } from 'vitest'
import type { ChatResponse } from './chat-response.js'
import { type Attempt, type ErrorKind, isUnderstudyError } from './errors.js'
import type { CallOptions } from './options.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { request, setup, type TimedProvider } from './test-support/client-setup.js'
import { type Script, textResponse } from './test-support/mock-provider.js'
import { fulfilled, rejected, type Settled, settle } from './test-support/settle.js'

// One test per row of DESIGN.md's policy table, through `createClient().complete()`.

/** An attempt trace as `"<target> <kind or outcome>#<retry>"`, easy to compare whole. */
function trace(attempts: readonly Attempt[]): string[] {
  return attempts.map(
    (attempt) =>
      `${attempt.target} ${attempt.outcome === 'error' ? attempt.error?.kind : attempt.outcome}#${attempt.retry}`,
  )
}

const fallbacks = deepFreeze(['b/m2'])

describe('createClient().complete() under the default policy', () => {
  describe('rate_limit', () => {
    it('retries a 429 after its Retry-After, then falls back', async () => {
      const { a, b, call } = setup({
        a: { m1: [{ fail: 'rate_limit', status: 429, retryAfterMs: 2_000 }] },
      })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual([
        'a/m1 rate_limit#0',
        'a/m1 rate_limit#1',
        'b/m2 ok#0',
      ])
      expect(a.times).toEqual([0, 2_000])
      expect(b.times).toEqual([2_000])
      expect(response.attempts[0]?.error).toMatchObject({
        kind: 'rate_limit',
        status: 429,
        retryAfterMs: 2_000,
      })
      expect(response.target).toBe('b/m2')
    })

    it('falls back at once when the Retry-After is longer than the backoff cap', async () => {
      const { a, b, call } = setup({
        a: { m1: [{ fail: 'rate_limit', status: 429, retryAfterMs: 60_000 }] },
      })
      const response = fulfilled(await call({ fallbacks, backoff: { maxDelayMs: 10_000 } }))
      expect(trace(response.attempts)).toEqual(['a/m1 rate_limit#0', 'b/m2 ok#0'])
      expect(a.times).toEqual([0])
      expect(b.times).toEqual([0])
    })

    it('falls back at once when the Retry-After would pass the deadline', async () => {
      const { a, b, call } = setup({
        a: { m1: [{ fail: 'rate_limit', status: 429, retryAfterMs: 5_000 }] },
      })
      const response = fulfilled(await call({ fallbacks, timeoutMs: 4_000 }))
      expect(trace(response.attempts)).toEqual(['a/m1 rate_limit#0', 'b/m2 ok#0'])
      expect(a.times).toEqual([0])
      expect(b.times).toEqual([0])
    })
  })

  it.each([
    { kind: 'overloaded', status: 503 },
    { kind: 'overloaded', status: 529 },
    { kind: 'server', status: 500 },
    { kind: 'server', status: 502 },
    { kind: 'network', status: undefined },
  ] as const)(
    'retries $kind ($status) on the same target, then falls back',
    async ({ kind, status }) => {
      const script: Script = status === undefined ? { fail: kind } : { fail: kind, status }
      const { a, b, call } = setup({ a: { m1: [script] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual([`a/m1 ${kind}#0`, `a/m1 ${kind}#1`, 'b/m2 ok#0'])
      expect(response.attempts[0]?.status).toBe(status)
      expect(a.calls).toHaveLength(2)
      expect(b.calls).toHaveLength(1)
      expect(response.text).toBe('b/m2 ok')
    },
  )

  it('succeeds on a retry of the same target when it recovers', async () => {
    const { b, call } = setup({
      a: { m1: [{ fail: 'server', status: 500 }, { ok: 'second time lucky' }] },
    })
    const response = fulfilled(await call({ fallbacks }))
    expect(trace(response.attempts)).toEqual(['a/m1 server#0', 'a/m1 ok#1'])
    expect(response.text).toBe('second time lucky')
    expect(b.calls).toHaveLength(0)
  })

  describe('timeout', () => {
    it('aborts an attempt that exceeds attemptTimeoutMs, retries it, then falls back', async () => {
      const { a, b, call } = setup({ a: { m1: [{ ok: 'too late', delayMs: 5_000 }] } })
      const response = fulfilled(await call({ fallbacks, attemptTimeoutMs: 1_000 }))
      expect(trace(response.attempts)).toEqual(['a/m1 timeout#0', 'a/m1 timeout#1', 'b/m2 ok#0'])
      expect(a.times).toEqual([0, 1_000])
      expect(a.calls.map((received) => received.aborted)).toEqual([true, true])
      expect(b.times).toEqual([2_000])
      expect(b.calls[0]?.aborted).toBe(false)
      expect(response.attempts[0]?.durationMs).toBe(1_000)
    })

    it("lets a target's own attemptTimeoutMs win over the call's", async () => {
      const { a, call } = setup({
        b: { down: [{ fail: 'server', status: 500 }] },
        a: { m1: [{ ok: 'slow but in time', delayMs: 3_000 }] },
      })
      const response = fulfilled(
        await call(
          {
            fallbacks: [{ model: 'a/m1', attemptTimeoutMs: 5_000 }],
            attemptTimeoutMs: 1_000,
            retries: 0,
          },
          { ...request, model: 'b/down' },
        ),
      )
      expect(trace(response.attempts)).toEqual(['b/down server#0', 'a/m1 ok#0'])
      expect(response.text).toBe('slow but in time')
      expect(a.calls[0]?.aborted).toBe(false)
    })
  })

  it.each([
    { kind: 'quota', status: 429 },
    { kind: 'auth', status: 401 },
    { kind: 'auth', status: 403 },
    { kind: 'not_found', status: 404 },
    { kind: 'unsupported', status: undefined },
  ] as const)('does not retry $kind ($status) and falls back', async ({ kind, status }) => {
    const script: Script = status === undefined ? { fail: kind } : { fail: kind, status }
    const { a, b, call } = setup({ a: { m1: [script] } })
    const response = fulfilled(await call({ fallbacks, retries: 3 }))
    expect(trace(response.attempts)).toEqual([`a/m1 ${kind}#0`, 'b/m2 ok#0'])
    expect(a.calls).toHaveLength(1)
    expect(b.calls).toHaveLength(1)
  })

  describe('context_window', () => {
    it('moves to contextWindowFallbacks when given, without retrying', async () => {
      const { a, b, call } = setup({ a: { m1: [{ fail: 'context_window', status: 400 }] } })
      const response = fulfilled(
        await call({ fallbacks, contextWindowFallbacks: ['c/long'], retries: 2 }),
      )
      expect(trace(response.attempts)).toEqual(['a/m1 context_window#0', 'c/long ok#0'])
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
    })

    it('moves to fallbacks when no contextWindowFallbacks are given', async () => {
      const { b, call } = setup({ a: { m1: [{ fail: 'context_window', status: 400 }] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 context_window#0', 'b/m2 ok#0'])
      expect(b.calls).toHaveLength(1)
    })
  })

  describe('content_policy', () => {
    it('moves a refusal to contentPolicyFallbacks when given, without retrying', async () => {
      const { a, b, call } = setup({ a: { m1: [{ fail: 'content_policy', status: 400 }] } })
      const response = fulfilled(
        await call({ fallbacks, contentPolicyFallbacks: ['c/lenient'], retries: 2 }),
      )
      expect(trace(response.attempts)).toEqual(['a/m1 content_policy#0', 'c/lenient ok#0'])
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
    })

    it('moves a refusal to fallbacks when no contentPolicyFallbacks are given', async () => {
      const { call } = setup({ a: { m1: [{ fail: 'content_policy', status: 400 }] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 content_policy#0', 'b/m2 ok#0'])
    })

    it("moves a 200 whose finish reason is 'content_filter' on to contentPolicyFallbacks", async () => {
      const { a, b, call } = setup({
        a: { m1: [{ ok: 'I cannot', finishReason: 'content_filter' }] },
      })
      const response = fulfilled(await call({ fallbacks, contentPolicyFallbacks: ['c/lenient'] }))
      expect(trace(response.attempts)).toEqual(['a/m1 content_policy#0', 'c/lenient ok#0'])
      expect(response.finishReason).toBe('stop')
      expect(response.text).toBe('c/lenient ok')
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
    })

    it("moves a 200 whose finish reason is 'content_filter' on to fallbacks when no contentPolicyFallbacks are given", async () => {
      const { call } = setup({ a: { m1: [{ ok: 'I cannot', finishReason: 'content_filter' }] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 content_policy#0', 'b/m2 ok#0'])
    })

    it('returns the last filtered response, saying so, when no target is left', async () => {
      const { call } = setup({
        a: { m1: [{ ok: 'first refusal', finishReason: 'content_filter' }] },
        b: { m2: [{ ok: 'second refusal', finishReason: 'content_filter' }] },
      })
      const response = fulfilled(await call({ fallbacks }))
      expect(response.finishReason).toBe('content_filter')
      expect(response.text).toBe('second refusal')
      expect(response.target).toBe('b/m2')
      expect(trace(response.attempts)).toEqual(['a/m1 content_policy#0', 'b/m2 content_policy#0'])
    })

    it('returns the filtered response when the targets after it fail', async () => {
      const { call } = setup({
        a: { m1: [{ ok: 'refused', finishReason: 'content_filter' }] },
        b: { m2: [{ fail: 'server', status: 500 }] },
      })
      const response = fulfilled(await call({ fallbacks }))
      expect(response.finishReason).toBe('content_filter')
      expect(response.text).toBe('refused')
      expect(response.target).toBe('a/m1')
      expect(trace(response.attempts)).toEqual([
        'a/m1 content_policy#0',
        'b/m2 server#0',
        'b/m2 server#1',
      ])
    })
  })

  describe('invalid_request', () => {
    it('stops at once, without retrying or falling back', async () => {
      const { a, b, call } = setup({ a: { m1: [{ fail: 'invalid_request', status: 400 }] } })
      const error = rejected(await call({ fallbacks, retries: 3 }))
      expect(error.kind).toBe('invalid_request')
      expect(error.status).toBe(400)
      expect(trace(error.attempts)).toEqual(['a/m1 invalid_request#0'])
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
    })

    it('falls back when the policy says so', async () => {
      const { a, b, call } = setup({ a: { m1: [{ fail: 'invalid_request', status: 400 }] } })
      const response = fulfilled(
        await call({ fallbacks, policy: { invalid_request: { fallback: true } } }),
      )
      expect(trace(response.attempts)).toEqual(['a/m1 invalid_request#0', 'b/m2 ok#0'])
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(1)
    })

    it('falls back when the client policy says so', async () => {
      const { call } = setup(
        { a: { m1: [{ fail: 'invalid_request', status: 422 }] } },
        { policy: { invalid_request: { fallback: true } } },
      )
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 invalid_request#0', 'b/m2 ok#0'])
    })
  })

  describe('empty', () => {
    it("falls back from a 200 with no text, no tool call and finish reason 'stop', without retrying", async () => {
      const { a, call } = setup({ a: { m1: [{ ok: '' }] } })
      const response = fulfilled(await call({ fallbacks, retries: 2 }))
      expect(trace(response.attempts)).toEqual(['a/m1 empty#0', 'b/m2 ok#0'])
      expect(a.calls).toHaveLength(1)
    })

    it("returns a 200 with no text and finish reason 'length': that is not empty", async () => {
      const { b, call } = setup({ a: { m1: [{ ok: '', finishReason: 'length' }] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 ok#0'])
      expect(response.finishReason).toBe('length')
      expect(response.text).toBe('')
      expect(b.calls).toHaveLength(0)
    })

    it('returns a 200 with tool calls and no text: that is not empty', async () => {
      const toolCall = { id: 'call_1', name: 'lookup', arguments: '{}' }
      const { call } = setup({
        a: {
          m1: [
            {
              respond: async () => ({
                ...textResponse('', 'tool_calls'),
                message: { role: 'assistant', content: '', toolCalls: [toolCall] },
                toolCalls: [toolCall],
              }),
            },
          ],
        },
      })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 ok#0'])
      expect(response.toolCalls).toEqual([toolCall])
    })
  })

  it('retries incomplete on the same target', async () => {
    const { b, call } = setup({ a: { m1: [{ fail: 'incomplete' }, { ok: 'whole' }] } })
    const response = fulfilled(await call({ fallbacks }))
    expect(trace(response.attempts)).toEqual(['a/m1 incomplete#0', 'a/m1 ok#1'])
    expect(response.text).toBe('whole')
    expect(b.calls).toHaveLength(0)
  })

  describe('deadline', () => {
    it('stops with kind deadline when timeoutMs runs out during an attempt', async () => {
      const { clock, a, b, call } = setup({ a: { m1: [{ ok: 'too late', delayMs: 10_000 }] } })
      const start = clock.now()
      const error = rejected(await call({ fallbacks, timeoutMs: 5_000 }))
      expect(error.kind).toBe('deadline')
      expect(trace(error.attempts)).toEqual(['a/m1 deadline#0'])
      expect(a.calls[0]?.aborted).toBe(true)
      expect(b.calls).toHaveLength(0)
      expect(clock.now() - start).toBe(5_000)
    })

    it('stops with kind deadline when timeoutMs runs out across retries', async () => {
      const { a, b, call } = setup({ a: { m1: [{ fail: 'server', status: 500, delayMs: 600 }] } })
      const error = rejected(await call({ fallbacks, timeoutMs: 1_000, attemptTimeoutMs: 800 }))
      expect(error.kind).toBe('deadline')
      expect(a.times).toEqual([0, 600])
      expect(b.calls).toHaveLength(0)
    })
  })

  describe('aborted', () => {
    it('stops at once with kind aborted, aborting the attempt in flight and starting nothing after', async () => {
      const { clock, a, b, client } = setup({ a: { m1: [{ hang: true }] } })
      const controller = new AbortController()
      const pending = client.complete(request, { fallbacks, signal: controller.signal })
      await clock.advance(100)
      expect(a.calls).toHaveLength(1)
      controller.abort()
      // No time passes: the call settles on the abort itself.
      const settled = await settle(clock, pending, 0)
      const error = rejected(settled)
      expect(error.kind).toBe('aborted')
      expect(trace(error.attempts)).toEqual(['a/m1 aborted#0'])
      expect(a.calls[0]?.aborted).toBe(true)
      await clock.runAll()
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
      expect(clock.pending()).toBe(0)
    })

    it('stops with kind aborted when the signal aborts during a backoff wait', async () => {
      const { clock, a, b, client } = setup({
        a: { m1: [{ fail: 'rate_limit', status: 429, retryAfterMs: 5_000 }] },
      })
      const controller = new AbortController()
      const pending = client.complete(request, { fallbacks, signal: controller.signal })
      await clock.advance(1_000)
      controller.abort()
      const error = rejected(await settle(clock, pending, 0))
      expect(error.kind).toBe('aborted')
      expect(a.calls).toHaveLength(1)
      expect(b.calls).toHaveLength(0)
      expect(clock.pending()).toBe(0)
    })

    it('calls no provider when the signal is already aborted', async () => {
      const { a, b, call } = setup()
      const error = rejected(await call({ fallbacks, signal: AbortSignal.abort() }))
      expect(error.kind).toBe('aborted')
      expect(error.attempts).toEqual([])
      expect(a.calls).toHaveLength(0)
      expect(b.calls).toHaveLength(0)
    })
  })

  describe('unknown', () => {
    it('takes a plain Error from a provider as kind unknown and falls back without retrying', async () => {
      const { a, call } = setup({ a: { m1: [{ throws: new Error('socket went away') }] } })
      const response = fulfilled(await call({ fallbacks, retries: 2 }))
      expect(trace(response.attempts)).toEqual(['a/m1 unknown#0', 'b/m2 ok#0'])
      expect(response.attempts[0]?.error?.message).toContain('socket went away')
      expect(a.calls).toHaveLength(1)
    })

    it('keeps the original error as the cause', async () => {
      const original = new Error('socket went away')
      const { call } = setup({ a: { m1: [{ throws: original }] } })
      const error = rejected(await call())
      expect(error.kind).toBe('all_failed')
      const cause = error.cause
      expect(isUnderstudyError(cause, 'unknown')).toBe(true)
      expect(isUnderstudyError(cause) && cause.cause).toBe(original)
    })

    it('takes a thrown non-Error value as kind unknown', async () => {
      const { call } = setup({ a: { m1: [{ throws: 'a string, not an Error' }] } })
      const response = fulfilled(await call({ fallbacks }))
      expect(trace(response.attempts)).toEqual(['a/m1 unknown#0', 'b/m2 ok#0'])
    })
  })

  describe('config', () => {
    it('rejects an unknown provider prefix before any provider is called', async () => {
      const { a, b, c, call } = setup()
      const error = rejected(await call({ fallbacks: ['b/m2', 'nope/m9'] }))
      expect(error.kind).toBe('config')
      expect(Reflect.get(error, 'path')).toBe('fallbacks[1]')
      expect(error.message).toContain('nope')
      expect([a.calls, b.calls, c.calls]).toEqual([[], [], []])
    })

    it('rejects a malformed target object before any provider is called', async () => {
      const { a, b, call } = setup()
      const error = rejected(await call({ fallbacks: ['b/m2', { model: 'no-slash' }] }))
      expect(error.kind).toBe('config')
      expect(Reflect.get(error, 'path')).toBe('fallbacks[1].model')
      expect(a.calls).toHaveLength(0)
      expect(b.calls).toHaveLength(0)
    })

    it('rejects an unknown primary provider before any provider is called', async () => {
      const { a, call } = setup()
      const error = rejected(await call({ fallbacks }, { ...request, model: 'nope/m1' }))
      expect(error.kind).toBe('config')
      expect(a.calls).toHaveLength(0)
    })
  })
})

/** How to make the primary's first attempt fail with a given kind. */
interface KindCase {
  readonly kind: ErrorKind
  readonly script: Script
  readonly options?: CallOptions
  /** Abort the call's signal this long after it starts. */
  readonly abortAfterMs?: number
}

const countingKinds: readonly KindCase[] = [
  { kind: 'rate_limit', script: { fail: 'rate_limit', status: 429 } },
  { kind: 'overloaded', script: { fail: 'overloaded', status: 503 } },
  { kind: 'server', script: { fail: 'server', status: 500 } },
  { kind: 'timeout', script: { hang: true }, options: { attemptTimeoutMs: 1_000 } },
  { kind: 'network', script: { fail: 'network' } },
  { kind: 'quota', script: { fail: 'quota', status: 429 } },
  { kind: 'auth', script: { fail: 'auth', status: 401 } },
  { kind: 'not_found', script: { fail: 'not_found', status: 404 } },
  { kind: 'incomplete', script: { fail: 'incomplete' } },
  { kind: 'unknown', script: { throws: new Error('socket went away') } },
]

const nonCountingKinds: readonly KindCase[] = [
  { kind: 'context_window', script: { fail: 'context_window', status: 400 } },
  { kind: 'content_policy', script: { fail: 'content_policy', status: 400 } },
  { kind: 'content_policy', script: { ok: 'filtered', finishReason: 'content_filter' } },
  { kind: 'invalid_request', script: { fail: 'invalid_request', status: 400 } },
  { kind: 'unsupported', script: { fail: 'unsupported' } },
  { kind: 'empty', script: { ok: '' } },
  { kind: 'aborted', script: { hang: true }, abortAfterMs: 10 },
  { kind: 'deadline', script: { hang: true }, options: { timeoutMs: 1_000 } },
]

/** Fails the primary once with `kindCase`, then makes a second call: is the primary cooling down? */
async function failOnceThenCallAgain(
  kindCase: KindCase,
): Promise<{ first: Settled<ChatResponse>; second: ChatResponse; a: TimedProvider }> {
  const { clock, a, call } = setup(
    { a: { m1: [kindCase.script, { ok: 'a/m1 recovered' }] } },
    { health: { minCalls: 1, failureRate: 1 } },
  )
  const controller = new AbortController()
  if (kindCase.abortAfterMs !== undefined)
    clock.setTimeout(() => controller.abort(), kindCase.abortAfterMs)
  const first = await call({
    fallbacks,
    retries: 0,
    ...kindCase.options,
    signal: controller.signal,
  })
  const attempts = first.status === 'fulfilled' ? first.value.attempts : rejected(first).attempts
  expect(attempts[0]?.error?.kind).toBe(kindCase.kind)
  const second = fulfilled(await call({ fallbacks, retries: 0 }))
  return { first, second, a }
}

describe('createClient().complete() and health, per kind', () => {
  it.each(countingKinds)('cools the target for the next call after $kind', async (kindCase) => {
    const { second, a } = await failOnceThenCallAgain(kindCase)
    expect(trace(second.attempts)).toEqual(['a/m1 skipped#0', 'b/m2 ok#0'])
    expect(second.attempts[0]).toMatchObject({ outcome: 'skipped', durationMs: 0 })
    expect(a.calls).toHaveLength(1)
  })

  it.each(nonCountingKinds)('does not cool the target after $kind', async (kindCase) => {
    const { second, a } = await failOnceThenCallAgain(kindCase)
    expect(trace(second.attempts)).toEqual(['a/m1 ok#0'])
    expect(second.text).toBe('a/m1 recovered')
    expect(a.calls).toHaveLength(2)
  })
})
