import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { buildPlan, type PlanOptions } from './build-plan.js'
import type { ChatRequest } from './chat-request.js'
import { hashKey } from './hash-key.js'
import type { HealthRecord, HealthStore, HealthThresholds } from './health-store.js'
import { createMemoryHealthStore } from './memory-health-store.js'
import type { Provider } from './provider.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { mockProvider } from './test-support/mock-provider.js'
import { TargetNames } from './target-names.js'

const thresholds: HealthThresholds = Object.freeze({
  minCalls: 5,
  failureRate: 0.5,
  windowMs: 60_000,
  cooldownMs: 30_000,
})

const start = 1_000_000

/** When `key`'s cooldown ends, seen at `now`; `undefined` when it is not cooling. */
async function cooldownOf(
  store: HealthStore,
  key: string,
  now: number,
): Promise<number | undefined> {
  const [until] = await store.cooldowns([key], now)
  return until
}

/** Records `outcomes` for `key`, one ms apart from `at`, and returns the time of the last one. */
async function recordAll(
  store: HealthStore,
  key: string,
  outcomes: readonly boolean[],
  at: number,
  settings: HealthThresholds = thresholds,
): Promise<number> {
  let time = at
  for (const [index, ok] of outcomes.entries()) {
    time = at + index
    await store.record(key, { at: time, ok }, settings)
  }
  return time
}

const fail = false
const ok = true

describe('createMemoryHealthStore', () => {
  it('does not cool a target before minCalls, however many of its calls failed', async () => {
    const store = createMemoryHealthStore()
    const last = await recordAll(store, 'a', [fail, fail, fail, fail], start)
    expect(await cooldownOf(store, 'a', last)).toBeUndefined()
  })

  it('cools a target for cooldownMs once it has minCalls calls and enough failed', async () => {
    const store = createMemoryHealthStore()
    const last = await recordAll(store, 'a', [fail, fail, fail, fail, fail], start)
    expect(await cooldownOf(store, 'a', last)).toBe(last + thresholds.cooldownMs)
    expect(await cooldownOf(store, 'a', last + thresholds.cooldownMs - 1)).toBe(
      last + thresholds.cooldownMs,
    )
    expect(await cooldownOf(store, 'a', last + thresholds.cooldownMs)).toBeUndefined()
  })

  it('cools a target on a Retry-After before minCalls, for at least that long', async () => {
    const store = createMemoryHealthStore()
    await store.record('a', { at: start, ok: false, retryAfterMs: 2_000 }, thresholds)
    expect(await cooldownOf(store, 'a', start)).toBe(start + 2_000)
    expect(await cooldownOf(store, 'a', start + 2_000)).toBeUndefined()
  })

  it('cools a target when failures / calls reaches failureRate, not below it', async () => {
    const store = createMemoryHealthStore()
    // 2 of 5 failed: 0.4, below 0.5.
    let last = await recordAll(store, 'a', [ok, ok, ok, fail, fail], start)
    expect(await cooldownOf(store, 'a', last)).toBeUndefined()
    // 3 of 6 failed: exactly 0.5.
    last += 1
    await store.record('a', { at: last, ok: false }, thresholds)
    expect(await cooldownOf(store, 'a', last)).toBe(last + thresholds.cooldownMs)
  })

  it('never starts a cooldown on a success', async () => {
    const store = createMemoryHealthStore()
    const strict = { ...thresholds, minCalls: 1, failureRate: 0.01 }
    const last = await recordAll(store, 'a', [ok, ok, ok, ok, ok, ok], start, strict)
    expect(await cooldownOf(store, 'a', last)).toBeUndefined()
  })

  it('gives a cooled target a fresh window once its cooldown ends', async () => {
    const store = createMemoryHealthStore()
    const last = await recordAll(store, 'a', [fail, fail, fail, fail, fail], start)
    const after = last + thresholds.cooldownMs
    await store.record('a', { at: after, ok: false }, thresholds)
    expect(await cooldownOf(store, 'a', after)).toBeUndefined()
  })

  it('counts failures inside windowMs', async () => {
    const store = createMemoryHealthStore()
    const settings = { ...thresholds, minCalls: 4 }
    await recordAll(store, 'a', [fail, fail], start, settings)
    // 3 of 6 failed within the window.
    const later = start + settings.windowMs - 10
    const last = await recordAll(store, 'a', [ok, ok, ok, fail], later, settings)
    expect(await cooldownOf(store, 'a', last)).toBe(last + settings.cooldownMs)
  })

  it('stops counting old failures as the window moves past them', async () => {
    const store = createMemoryHealthStore()
    const settings = { ...thresholds, minCalls: 4 }
    await recordAll(store, 'a', [fail, fail], start, settings)
    // Counting the two old failures, 3 of 6 failed; they are nearly two windows old.
    const later = start + 2 * settings.windowMs - 10
    const last = await recordAll(store, 'a', [ok, ok, ok, fail], later, settings)
    expect(await cooldownOf(store, 'a', last)).toBeUndefined()
  })

  it('forgets failures two windows old', async () => {
    const store = createMemoryHealthStore()
    const last = await recordAll(store, 'a', [fail, fail, fail, fail], start)
    const later = last + 2 * thresholds.windowMs
    await store.record('a', { at: later, ok: false }, thresholds)
    expect(await cooldownOf(store, 'a', later)).toBeUndefined()
  })

  it('keeps targets apart', async () => {
    const store = createMemoryHealthStore()
    const last = await recordAll(store, 'a', [fail, fail, fail, fail, fail], start)
    await recordAll(store, 'b', [fail, fail, fail, fail], start)
    expect(await store.cooldowns(['a', 'b', 'never-seen'], last)).toEqual([
      last + thresholds.cooldownMs,
      undefined,
      undefined,
    ])
  })

  it('never cools a target when cooldownMs is 0, not even on a Retry-After', async () => {
    const store = createMemoryHealthStore()
    const never = { ...thresholds, minCalls: 1, cooldownMs: 0 }
    await store.record('a', { at: start, ok: false, retryAfterMs: 60_000 }, never)
    const last = await recordAll(store, 'a', [fail, fail, fail, fail, fail], start + 1, never)
    expect(await cooldownOf(store, 'a', last)).toBeUndefined()
  })

  it('forgets the target recorded longest ago past maxTargets; a failure counts as recent', async () => {
    const store = createMemoryHealthStore({ maxTargets: 2 })
    const cool: HealthRecord = { at: start, ok: false, retryAfterMs: 10_000 }
    await store.record('a', cool, thresholds)
    await store.record('b', cool, thresholds)
    await store.record('a', { at: start + 1, ok: false }, thresholds)
    await store.record('c', cool, thresholds)
    expect(await store.cooldowns(['a', 'b', 'c'], start + 2)).toEqual([
      start + 10_000,
      undefined,
      start + 10_000,
    ])
  })
})

/** One record of a random sequence: a gap after the previous one, an outcome, maybe a Retry-After. */
const recordStep = fc.record({
  gapMs: fc.integer({ min: 0, max: 40_000 }),
  ok: fc.boolean(),
  retryAfterMs: fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
})

const randomThresholds = fc.record({
  minCalls: fc.integer({ min: 0, max: 8 }),
  failureRate: fc.double({ min: 0.01, max: 1, noNaN: true }),
  windowMs: fc.integer({ min: 1, max: 120_000 }),
  cooldownMs: fc.integer({ min: 1, max: 120_000 }),
})

describe('createMemoryHealthStore, over random records', () => {
  test.prop([fc.array(recordStep, { maxLength: 60 }), randomThresholds])(
    'only moves the end of a cooldown later while the target is cooling',
    async (steps, settings) => {
      const store = createMemoryHealthStore()
      let now = start
      let end: number | undefined
      for (const step of steps) {
        now += step.gapMs
        const record: HealthRecord =
          step.retryAfterMs === undefined
            ? { at: now, ok: step.ok }
            : { at: now, ok: step.ok, retryAfterMs: step.retryAfterMs }
        await store.record('a', record, settings)
        const until = await cooldownOf(store, 'a', now)
        if (end !== undefined && now < end) expect(until).toBeGreaterThanOrEqual(end)
        if (until !== undefined) {
          expect(until).toBeGreaterThan(now)
          end = until
        }
      }
    },
  )

  test.prop([fc.array(recordStep, { maxLength: 60 }), randomThresholds])(
    'never cools a target when cooldownMs is 0',
    async (steps, settings) => {
      const store = createMemoryHealthStore()
      const never = { ...settings, cooldownMs: 0 }
      let now = start
      for (const step of steps) {
        now += step.gapMs
        const record: HealthRecord =
          step.retryAfterMs === undefined
            ? { at: now, ok: step.ok }
            : { at: now, ok: step.ok, retryAfterMs: step.retryAfterMs }
        await store.record('a', record, never)
        expect(await cooldownOf(store, 'a', now)).toBeUndefined()
      }
    },
  )

  test.prop([fc.array(fc.boolean(), { maxLength: 40 }), randomThresholds])(
    'never cools a target before minCalls without a Retry-After',
    async (outcomes, settings) => {
      const store = createMemoryHealthStore()
      const calls = outcomes.slice(0, Math.max(0, settings.minCalls - 1))
      const last = await recordAll(store, 'a', calls, start, { ...settings, windowMs: 1_000_000 })
      expect(await cooldownOf(store, 'a', last)).toBeUndefined()
    },
  )

  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })])(
    'keeps only the maxTargets most recently recorded targets',
    async (maxTargets, extra) => {
      const store = createMemoryHealthStore({ maxTargets })
      const keys = Array.from({ length: maxTargets + extra }, (_, index) => `target-${index}`)
      for (const key of keys) {
        await store.record(key, { at: start, ok: false, retryAfterMs: 10_000 }, thresholds)
      }
      const cooling = await store.cooldowns(keys, start)
      expect(cooling.slice(0, extra)).toEqual(keys.slice(0, extra).map(() => undefined))
      expect(cooling.slice(extra)).toEqual(keys.slice(extra).map(() => start + 10_000))
    },
  )
})

describe('health keys', () => {
  const providers: ReadonlyMap<string, Provider> = new Map([
    ['openai', mockProvider('openai')],
    ['anthropic', mockProvider('anthropic')],
  ])
  const request: ChatRequest = deepFreeze({
    model: 'openai/gpt-4o',
    messages: [{ role: 'user', content: 'hi' }],
  })
  const planOptions = (apiKey: string, fallbackKey: string): PlanOptions =>
    deepFreeze({
      fallbacks: [
        { model: 'openai/gpt-4o', apiKey: fallbackKey, baseURL: 'https://backup.example/v1' },
        { model: 'anthropic/claude-sonnet-4-5', apiKey: fallbackKey },
      ],
      contextWindowFallbacks: undefined,
      contentPolicyFallbacks: [{ model: 'openai/gpt-4.1', apiKey }],
      retries: 1,
      attemptTimeoutMs: undefined,
      apiKey,
      baseURL: undefined,
      headers: { authorization: `Bearer ${apiKey}` },
    })

  // Keys of realistic length: a hash (at most 11 base-36 characters) cannot hold one.
  const apiKey = fc.string({ minLength: 12, maxLength: 64 })

  test.prop([apiKey, apiKey])('never hold an API key, only its hash', (primaryKey, fallbackKey) => {
    const plan = buildPlan(
      request,
      planOptions(primaryKey, fallbackKey),
      new TargetNames(providers),
    )
    for (const key of plan.groupKeys) {
      expect(key).not.toContain(primaryKey)
      expect(key).not.toContain(fallbackKey)
    }
    expect(plan.groupKeys[0]).toContain(hashKey(primaryKey))
    expect(plan.groupKeys[1]).toContain(hashKey(fallbackKey))
  })

  test.prop([apiKey, apiKey])(
    'tell two targets apart when only their keys differ',
    (primaryKey, fallbackKey) => {
      const options: PlanOptions = deepFreeze({
        ...planOptions(primaryKey, fallbackKey),
        fallbacks: [{ model: 'openai/gpt-4o', apiKey: fallbackKey }],
      })
      const plan = buildPlan(request, options, new TargetNames(providers))
      const [primary, fallback] = plan.entries
      expect(primary?.group === fallback?.group).toBe(primaryKey === fallbackKey)
    },
  )
})
