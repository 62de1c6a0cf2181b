import { type Clock, systemClock } from '@understudy/core'

/** A clock for the store: real timers, a time that tests can move ahead, and a count of live timers. */
export interface StoreClock extends Clock {
  /** Moves this clock's time `ms` ahead of the real one (the store's cache and retry windows). */
  skip(ms: number): void
  /** Timers set and neither fired nor cleared. */
  live(): number
}

export function storeClock(): StoreClock {
  let offset = 0
  const timers = new Set<unknown>()
  return {
    now: () => systemClock.now() + offset,
    setTimeout(callback, ms) {
      const handle = systemClock.setTimeout(() => {
        timers.delete(handle)
        callback()
      }, ms)
      timers.add(handle)
      return handle
    },
    clearTimeout(handle) {
      timers.delete(handle)
      systemClock.clearTimeout(handle)
    },
    skip(ms) {
      offset += ms
    },
    live: () => timers.size,
  }
}
