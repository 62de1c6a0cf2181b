import type { Clock } from '../clock.js'

/** A clock whose time moves only when a test says so. */
export interface TestClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order, and lets promises settle between them. */
  advance(ms: number): Promise<void>
  /** Runs timers until none is pending or `limitMs` of virtual time has passed. */
  runAll(limitMs?: number): Promise<void>
  /** Timers set and not yet fired or cleared. */
  pending(): number
  /** When the earliest pending timer is due, in clock ms; `undefined` when none is pending. */
  nextTimerAt(): number | undefined
}

interface Timer {
  readonly id: number
  readonly at: number
  readonly callback: () => void
}

/** Lets every queued promise reaction run (several rounds, for chains of awaits). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

/** A {@link TestClock} starting at `start` ms. */
export function createTestClock(start = 1_000_000): TestClock {
  let now = start
  let nextId = 1
  const timers = new Map<number, Timer>()

  const due = (until: number): Timer | undefined => {
    let first: Timer | undefined
    for (const timer of timers.values()) {
      if (
        timer.at <= until &&
        (first === undefined ||
          timer.at < first.at ||
          (timer.at === first.at && timer.id < first.id))
      ) {
        first = timer
      }
    }
    return first
  }

  const clock: TestClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++
      timers.set(id, { id, at: now + Math.max(0, ms), callback })
      return id
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle)
    },
    async advance(ms) {
      const until = now + ms
      await flush()
      for (let timer = due(until); timer !== undefined; timer = due(until)) {
        timers.delete(timer.id)
        now = timer.at
        timer.callback()
        await flush()
      }
      now = until
      await flush()
    },
    async runAll(limitMs = 3_600_000) {
      const until = now + limitMs
      await flush()
      for (let timer = due(until); timer !== undefined; timer = due(until)) {
        timers.delete(timer.id)
        now = timer.at
        timer.callback()
        await flush()
      }
    },
    pending: () => timers.size,
    nextTimerAt: () => due(Infinity)?.at,
  }
  return clock
}
