import {
  createMemoryHealthStore,
  type HealthRecord,
  type HealthStore,
  type HealthThresholds,
} from '@understudy/core'
import { ConformanceFailure, type ConformanceCheck } from './run-provider-conformance.js'
import { suiteTimeScale } from './time-scale.js'

/** What the health store conformance suite takes: how to make the store under test. */
export interface HealthStoreSetup {
  /**
   * Builds the store under test. Each check builds its own and uses target
   * keys no other check uses, so stores that share a backend (one Redis)
   * need no cleaning between checks.
   */
  readonly store: () => HealthStore | Promise<HealthStore>
  /** Releases a store the suite built (`store.close()`), at the end of its check. */
  readonly close?: (store: HealthStore) => unknown
  /**
   * Multiplies each check's time limit (2 s): raise it on a slow machine or
   * a remote backend. A positive number.
   * @default the number in the `UNDERSTUDY_TEST_TIME_SCALE` environment variable, or 1
   */
  readonly timeScale?: number
}

const thresholds: HealthThresholds = Object.freeze({
  minCalls: 4,
  failureRate: 0.5,
  windowMs: 10_000,
  cooldownMs: 5_000,
})

/** A time far from 0, as `Date.now()` gives: a store must not assume small numbers. */
const start = 1_765_000_000_000

let runs = 0

/**
 * The health store conformance suite: what any health store must do to stand
 * in for the in-memory one (a minimum number of calls, a failure rate over a
 * window, cooldowns that only move later, Retry-After before the minimum,
 * `cooldownMs: 0`, targets kept apart, answers in key order), as checks to
 * run; the Vitest entry registers each as a test. Each check awaits every
 * `record()` before it reads, as a store may answer asynchronously. One check
 * replays seeded random sequences of outcomes against core's in-memory store
 * and expects the same cooldowns.
 */
export function healthStoreConformanceChecks(setup: HealthStoreSetup): readonly ConformanceCheck[] {
  const timeoutMs = 2_000 * suiteTimeScale(setup.timeScale) * 5

  /** Runs `body` with a fresh store and a function naming targets no other run uses. */
  const withStore = async (
    body: (store: HealthStore, target: (name: string) => string) => Promise<void>,
  ): Promise<void> => {
    const store = await setup.store()
    runs += 1
    const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${runs}`
    const target = (name: string): string =>
      `conformance\u0000model-${run}\u0000https://${name}.example/v1\u0000${name.length.toString(16)}`
    try {
      await body(store, target)
    } finally {
      await setup.close?.(store)
    }
  }

  const record = async (
    store: HealthStore,
    key: string,
    outcome: HealthRecord,
    limits: HealthThresholds = thresholds,
  ): Promise<void> => {
    await store.record(key, outcome, limits)
  }

  const endOf = async (store: HealthStore, key: string, now: number): Promise<number | undefined> =>
    (await store.cooldowns([key], now))[0]

  const expectEnd = async (
    store: HealthStore,
    key: string,
    now: number,
    expected: number | undefined,
    what: string,
  ): Promise<void> => {
    const end = await endOf(store, key, now)
    if (end !== expected) {
      throw new ConformanceFailure(
        `${what}: cooldowns() at ${now - start} ms said ${end === undefined ? 'not cooling' : `cooling until ${end - start} ms`}, expected ${expected === undefined ? 'not cooling' : `until ${expected - start} ms`}`,
      )
    }
  }

  const fail = (at: number, retryAfterMs?: number): HealthRecord =>
    retryAfterMs === undefined ? { at, ok: false } : { at, ok: false, retryAfterMs }

  const checks: Omit<ConformanceCheck, 'timeoutMs'>[] = [
    {
      name: 'says nothing is cooling for targets it never heard of',
      run: () =>
        withStore(async (store, target) => {
          const ends = await store.cooldowns([target('a'), target('b')], start)
          if (ends.some((end) => end !== undefined))
            throw new ConformanceFailure(
              `cooldowns() said ${JSON.stringify(ends)} for unknown targets`,
            )
        }),
    },
    {
      name: 'does not cool a target before minCalls calls, whatever they were',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          for (let i = 0; i < thresholds.minCalls - 1; i++)
            await record(store, key, fail(start + i))
          await expectEnd(store, key, start + 10, undefined, `${thresholds.minCalls - 1} failures`)
        }),
    },
    {
      name: 'cools a target when minCalls calls fail at failureRate, for cooldownMs from the failure that did it',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          await record(store, key, { at: start, ok: true })
          await record(store, key, { at: start + 1, ok: true })
          await record(store, key, fail(start + 2))
          await expectEnd(store, key, start + 3, undefined, 'one failure in three')
          await record(store, key, fail(start + 3))
          await expectEnd(
            store,
            key,
            start + 4,
            start + 3 + thresholds.cooldownMs,
            'two failures in four',
          )
        }),
    },
    {
      name: 'keeps a target whose failure rate stays below failureRate',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          for (let i = 0; i < 12; i++)
            await record(store, key, i % 3 === 2 ? fail(start + i) : { at: start + i, ok: true })
          await expectEnd(store, key, start + 20, undefined, 'one failure in three, twelve times')
        }),
    },
    {
      name: 'cools a target for its Retry-After even before minCalls',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          await record(store, key, fail(start, 30_000))
          await expectEnd(store, key, start + 1, start + 30_000, 'one 429 with Retry-After 30 s')
          await expectEnd(store, key, start + 29_999, start + 30_000, 'just before its end')
          await expectEnd(store, key, start + 30_000, undefined, 'at its end')
        }),
    },
    {
      name: "never moves a cooldown's end earlier: a shorter Retry-After leaves it, a longer one moves it later",
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          await record(store, key, fail(start, 20_000))
          await record(store, key, fail(start + 1_000, 5_000))
          await expectEnd(
            store,
            key,
            start + 2_000,
            start + 20_000,
            'a shorter Retry-After after a longer one',
          )
          for (let i = 0; i < thresholds.minCalls; i++)
            await record(store, key, fail(start + 2_000 + i))
          await expectEnd(
            store,
            key,
            start + 3_000,
            start + 20_000,
            'a failure-rate cooldown shorter than the Retry-After',
          )
          await record(store, key, fail(start + 4_000, 40_000))
          await expectEnd(store, key, start + 5_000, start + 44_000, 'a longer Retry-After')
        }),
    },
    {
      name: 'never cools a target when cooldownMs is 0, not even for a Retry-After',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          const never = { ...thresholds, cooldownMs: 0 }
          for (let i = 0; i < 10; i++) await record(store, key, fail(start + i, 30_000), never)
          await expectEnd(store, key, start + 20, undefined, 'ten failures with cooldownMs 0')
        }),
    },
    {
      name: 'forgets failures older than two windows',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          for (let i = 0; i < thresholds.minCalls - 1; i++)
            await record(store, key, fail(start + i))
          const later = start + 2 * thresholds.windowMs + 1
          await record(store, key, fail(later))
          await expectEnd(store, key, later + 1, undefined, 'one failure two windows after three')
        }),
    },
    {
      name: 'weighs the window before the current one by how much of it still overlaps',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          // Three failures early in one window, a success and a failure 1 s into the next:
          // (1 + 3 × 0.9) failures over (2 + 3 × 0.9) calls, past minCalls and failureRate.
          for (let i = 0; i < 3; i++) await record(store, key, fail(start + i))
          const next = start + thresholds.windowMs + 1_000
          await record(store, key, { at: next - 1, ok: true })
          await record(store, key, fail(next))
          await expectEnd(
            store,
            key,
            next + 1,
            next + thresholds.cooldownMs,
            'failures across two windows',
          )
        }),
    },
    {
      name: 'gives a cooled target a fresh window: one failure after its cooldown does not cool it again',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          for (let i = 0; i < thresholds.minCalls; i++) await record(store, key, fail(start + i))
          const end = start + thresholds.minCalls - 1 + thresholds.cooldownMs
          await expectEnd(store, key, start + 10, end, 'minCalls failures')
          await record(store, key, fail(end + 1))
          await expectEnd(store, key, end + 2, undefined, 'one failure after the cooldown')
        }),
    },
    {
      name: 'keeps targets apart, even when only the base URL or the key hash differs',
      run: () =>
        withStore(async (store, target) => {
          const cooled = target('a')
          const [provider, model, baseURL, hash] = cooled.split('\u0000') as [
            string,
            string,
            string,
            string,
          ]
          const others = [
            [provider, model, `${baseURL}/`, hash],
            [provider, model, baseURL, `${hash}0`],
            [provider, model, baseURL, ''],
            [provider, `${model}|x`, baseURL, hash],
            [provider, `${model}{x}`, baseURL, hash],
            [provider, `${model}%7C`, baseURL, hash],
          ].map((parts) => parts.join('\u0000'))
          await record(store, cooled, fail(start, 10_000))
          const ends = await store.cooldowns([cooled, ...others], start + 1)
          const expected = [start + 10_000, ...others.map(() => undefined)]
          if (ends[0] !== expected[0] || ends.slice(1).some((end) => end !== undefined)) {
            throw new ConformanceFailure(
              `one cooled target among near namesakes: cooldowns() said ${JSON.stringify(ends.map((end) => (end === undefined ? null : end - start)))}`,
            )
          }
        }),
    },
    {
      name: 'answers in the order of the targets asked',
      run: () =>
        withStore(async (store, target) => {
          const keys = ['a', 'b', 'c', 'd'].map(target)
          await record(store, keys[1] as string, fail(start, 7_000))
          await record(store, keys[3] as string, fail(start, 9_000))
          const ends = await store.cooldowns(keys, start + 1)
          const shown = [0, 1, 2, 3].map((i) =>
            ends[i] === undefined ? null : (ends[i] as number) - start,
          )
          if (JSON.stringify(shown) !== JSON.stringify([null, 7_000, null, 9_000]))
            throw new ConformanceFailure(
              `cooldowns() said ${JSON.stringify(shown)}, expected [null,7000,null,9000]`,
            )
        }),
    },
    {
      name: 'takes concurrent records of one target without moving its cooldown earlier',
      run: () =>
        withStore(async (store, target) => {
          const key = target('a')
          const afters = [3_000, 9_000, 1_000, 7_000, 2_000, 8_000]
          await Promise.all(afters.map((after) => record(store, key, fail(start, after))))
          await expectEnd(store, key, start + 1, start + 9_000, 'six concurrent Retry-Afters')
        }),
    },
    {
      name: "agrees with core's in-memory store over seeded random sequences of outcomes",
      run: () =>
        withStore(async (store, target) => {
          const random = seeded(0x5eed)
          for (let sequence = 0; sequence < 8; sequence++) {
            const key = target(`seq${sequence}`)
            const model = createMemoryHealthStore()
            let at = start
            for (let step = 0; step < 30; step++) {
              at += Math.floor(random() * 3_000)
              const roll = random()
              const outcome: HealthRecord =
                roll < 0.45
                  ? { at, ok: true }
                  : roll < 0.9
                    ? fail(at)
                    : fail(at, 1_000 + Math.floor(random() * 20_000))
              await record(store, key, outcome)
              model.record(key, outcome, thresholds)
              const now = at + Math.floor(random() * 2_000)
              const expected = (await model.cooldowns([key], now))[0]
              await expectEnd(
                store,
                key,
                now,
                expected,
                `sequence ${sequence}, step ${step} (seed 0x5eed)`,
              )
            }
          }
        }),
    },
  ]
  return checks.map((check) => ({ ...check, timeoutMs }))
}

/** A small seeded generator (mulberry32): the same sequences on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
