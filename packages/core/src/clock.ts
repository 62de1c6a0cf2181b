/**
 * Where the client reads the time and sets its timers. Tests inject a fake
 * clock to run backoff, timeouts and cooldowns in virtual time.
 */
export interface Clock {
  /**
   * The current time in ms. One client needs only monotony; a health store
   * shared between processes (`@understudy/health-redis`) compares cooldown
   * ends across them, so their clocks must share an epoch (`Date.now()`).
   */
  now(): number
  /** Calls `callback` once after `ms`; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The clock of the runtime: `Date.now` and the global timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): unknown => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle: unknown): void => {
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0])
  },
})
