import { defaults } from './defaults.js'
import type { HealthRecord, HealthStore, HealthThresholds } from './health-store.js'

/** Options of {@link createMemoryHealthStore}. */
export interface MemoryHealthStoreOptions {
  /**
   * The most targets remembered; past it the one that entered or last failed
   * longest ago goes first, so a failing target keeps its cooldown.
   * @default 1000
   */
  readonly maxTargets?: number
}

/**
 * One target's recent outcomes as two fixed windows of counts: the current
 * one and the one before. The failure rate over the last `windowMs` is
 * estimated by weighting the previous window by how much of it still
 * overlaps (a sliding-window counter): O(1) time and memory per target,
 * whatever the call rate.
 */
interface Entry {
  windowStart: number
  calls: number
  failures: number
  previousCalls: number
  previousFailures: number
  cooldownUntil: number
}

const nothingCooling: readonly (number | undefined)[] = Object.freeze([])

/**
 * A health store in this process's memory, bounded in size. Each client has
 * its own unless given a shared one.
 */
export function createMemoryHealthStore(options: MemoryHealthStoreOptions = {}): HealthStore {
  const maxTargets = options.maxTargets ?? defaults.healthMaxTargets
  const entries = new Map<string, Entry>()
  // The latest cooldown end of any target: when it has passed, nothing is cooling.
  let latestCooldownEnd = 0

  return Object.freeze({
    cooldowns(keys: readonly string[], now: number): readonly (number | undefined)[] {
      if (now >= latestCooldownEnd) return nothingCooling
      const ends = new Array<number | undefined>(keys.length)
      for (let i = 0; i < keys.length; i++) {
        const until = entries.get(keys[i] as string)?.cooldownUntil ?? 0
        ends[i] = until > now ? until : undefined
      }
      return ends
    },

    record(key: string, record: HealthRecord, thresholds: HealthThresholds): void {
      const { at, ok } = record
      const { windowMs } = thresholds
      let entry = entries.get(key)
      if (entry === undefined) {
        entry = {
          windowStart: at,
          calls: 0,
          failures: 0,
          previousCalls: 0,
          previousFailures: 0,
          cooldownUntil: 0,
        }
        entries.set(key, entry)
        if (entries.size > maxTargets) entries.delete(entries.keys().next().value as string)
      } else if (!ok) {
        // A failing target moves to the back of the line, so eviction takes quiet ones first.
        entries.delete(key)
        entries.set(key, entry)
      }

      const elapsed = at - entry.windowStart
      if (elapsed >= windowMs) {
        const adjacent = elapsed < 2 * windowMs
        entry.previousCalls = adjacent ? entry.calls : 0
        entry.previousFailures = adjacent ? entry.failures : 0
        entry.calls = 0
        entry.failures = 0
        entry.windowStart = at - (elapsed % windowMs)
      }
      entry.calls += 1
      if (ok) return
      entry.failures += 1
      if (thresholds.cooldownMs === 0) return

      let until = entry.cooldownUntil
      if (record.retryAfterMs !== undefined) until = Math.max(until, at + record.retryAfterMs)
      const overlap = Math.max(0, 1 - (at - entry.windowStart) / windowMs)
      const calls = entry.calls + entry.previousCalls * overlap
      const failures = entry.failures + entry.previousFailures * overlap
      if (calls >= thresholds.minCalls && failures / calls >= thresholds.failureRate) {
        until = Math.max(until, at + thresholds.cooldownMs)
        // A fresh window once the cooldown ends: the target earns its way back.
        entry.calls = 0
        entry.failures = 0
        entry.previousCalls = 0
        entry.previousFailures = 0
        entry.windowStart = at
      }
      entry.cooldownUntil = until
      if (until > latestCooldownEnd) latestCooldownEnd = until
    },
  })
}
