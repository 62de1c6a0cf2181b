import { createMemoryHealthStore, type HealthStore } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { healthStoreConformanceChecks } from './run-health-store-conformance.js'
import { healthStoreConformanceSuite } from './vitest.js'

healthStoreConformanceSuite("core's in-memory store", { store: () => createMemoryHealthStore() })

/** A store that forgets Retry-After: the suite must catch it. */
function forgetfulStore(): HealthStore {
  const inner = createMemoryHealthStore()
  return {
    cooldowns: (keys, now) => inner.cooldowns(keys, now),
    record: (key, record, thresholds) =>
      inner.record(key, { at: record.at, ok: record.ok }, thresholds),
  }
}

/** A store whose cooldowns end as soon as another record says so: the suite must catch it. */
function shorteningStore(): HealthStore {
  const ends = new Map<string, number>()
  return {
    cooldowns: (keys, now) =>
      keys.map((key) => ((ends.get(key) ?? 0) > now ? ends.get(key) : undefined)),
    record: (key, record) => {
      if (!record.ok && record.retryAfterMs !== undefined)
        ends.set(key, record.at + record.retryAfterMs)
    },
  }
}

describe('healthStoreConformanceChecks', () => {
  const failing = async (store: () => HealthStore, name: string): Promise<string> => {
    const check = healthStoreConformanceChecks({ store }).find((each) => each.name.startsWith(name))
    if (check === undefined) throw new Error(`no check named ${name}`)
    return check.run().then(
      () => 'passed',
      (error: unknown) => String(error),
    )
  }

  it('fails a store that ignores Retry-After', async () => {
    expect(await failing(forgetfulStore, 'cools a target for its Retry-After')).toMatch(
      /ConformanceFailure: one 429 with Retry-After 30 s/,
    )
  })

  it('fails a store that lets a shorter Retry-After move a cooldown earlier', async () => {
    expect(await failing(shorteningStore, "never moves a cooldown's end earlier")).toMatch(
      /a shorter Retry-After after a longer one/,
    )
  })

  it('fails a store that differs from the in-memory one on random sequences', async () => {
    expect(await failing(forgetfulStore, "agrees with core's in-memory store")).toMatch(
      /seed 0x5eed/,
    )
  })
})
