import type { Clock } from '@understudy/core'

/** How a promise ended, as {@link FakeClock.settle} reports it. */
export type Settled<T> =
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown }

/** Options of {@link FakeClock.settle}. */
export interface SettleOptions {
  /**
   * The most timers fired before giving up: a call that keeps re-arming
   * timers fails its test instead of running forever.
   * @default 100000
   */
  readonly maxTimers?: number
}

/**
 * A {@link Clock} whose time moves only when a test says so, for backoff,
 * timeouts and cooldowns tested in virtual time. Pass it as `createClient`'s
 * `clock` (and `mockProvider`'s), then drive it with {@link FakeClock.advance}
 * or {@link FakeClock.settle}.
 *
 * Between two timers it lets the code under test run everything it has
 * queued (one macrotask turn), as a real event loop would: a timer never
 * fires while promise work before it is still pending.
 */
export interface FakeClock extends Clock {
  /** The virtual time in ms. */
  now(): number
  /**
   * Sets a timer `ms` from now. A negative or `NaN` delay is `0`; `Infinity`
   * never fires. The handle is for {@link FakeClock.clearTimeout}.
   */
  setTimeout(callback: () => void, ms: number): unknown
  /** Cancels a timer; an unknown or fired handle is ignored. */
  clearTimeout(handle: unknown): void
  /**
   * Moves time forward by `ms`, firing the timers that fall due in order of
   * due time (then of creation), time set to each one's due time as it
   * fires, and lets pending promise work settle before, between and after
   * them. Timers set by a callback fire too when they fall due within `ms`.
   * Rejects with what a callback threw, leaving later timers pending.
   */
  advance(ms: number): Promise<void>
  /**
   * Fires timers in order until none is pending or the next one is more than
   * `limitMs` of virtual time away from when `runAll` began; time stops at the
   * last timer fired. Throws after 100000 timers (a timer that re-arms itself).
   * @default limitMs 3600000 (one hour)
   */
  runAll(limitMs?: number): Promise<void>
  /** Timers set and not yet fired or cleared; assert `0` after a call to prove it left none behind. */
  pending(): number
  /** When the earliest pending timer falls due, in clock ms; `undefined` when none is pending. */
  nextTimerAt(): number | undefined
  /**
   * Drives the clock, one timer at a time, until `promise` settles, and
   * returns how it ended (it never rejects for the promise's sake). Throws a
   * clear error when the promise is still pending and no timer is left to
   * fire — the call would hang for ever — or after `maxTimers` timers.
   *
   * Only in-process work is awaited between timers: a promise waiting for a
   * real socket may be reported as a hang.
   *
   * @example
   * const clock = fakeClock()
   * const client = createClient({ providers: [mockProvider('a', scripts, { clock })], clock })
   * const result = await clock.settle(client.complete(request))
   * expect(result.status).toBe('fulfilled')
   * expect(clock.pending()).toBe(0)
   */
  settle<T>(promise: Promise<T>, options?: SettleOptions): Promise<Settled<T>>
}

interface Timer {
  readonly id: number
  readonly at: number
  readonly callback: () => void
}

/** How many timers {@link FakeClock.runAll} fires before it calls it a loop. */
const maxRunAllTimers = 100_000

/**
 * Makes a {@link FakeClock} that reads `start` ms until a test moves it.
 *
 * @default start 0
 * @example
 * const clock = fakeClock()
 * clock.setTimeout(() => console.log('fired'), 1_000)
 * await clock.advance(1_000) // logs 'fired'
 */
export function fakeClock(start = 0): FakeClock {
  if (!Number.isFinite(start)) {
    throw new RangeError(`fakeClock: start must be a finite number of ms, received ${start}`)
  }
  let now = start
  let nextId = 1
  const timers = new Map<number, Timer>()

  /** The timer that fires first among those due at or before `until`. */
  const firstDue = (until: number): Timer | undefined => {
    let first: Timer | undefined
    for (const timer of timers.values()) {
      if (timer.at > until) continue
      if (
        first === undefined ||
        timer.at < first.at ||
        (timer.at === first.at && timer.id < first.id)
      ) {
        first = timer
      }
    }
    return first
  }

  const fire = (timer: Timer): void => {
    timers.delete(timer.id)
    now = timer.at
    timer.callback()
  }

  const clock: FakeClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++
      const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms)
      timers.set(id, { id, at: now + delay, callback })
      return id
    },
    clearTimeout(handle) {
      if (typeof handle === 'number') timers.delete(handle)
    },
    async advance(ms) {
      if (!(ms >= 0) || !Number.isFinite(ms)) {
        throw new RangeError(
          `fakeClock.advance: expected a finite number of ms >= 0, received ${ms}`,
        )
      }
      const until = now + ms
      await turn()
      for (let timer = firstDue(until); timer !== undefined; timer = firstDue(until)) {
        fire(timer)
        await turn()
      }
      now = until
      await turn()
    },
    async runAll(limitMs = 3_600_000) {
      if (!(limitMs >= 0)) {
        throw new RangeError(`fakeClock.runAll: expected a number of ms >= 0, received ${limitMs}`)
      }
      const until = now + limitMs
      await turn()
      let fired = 0
      for (let timer = firstDue(until); timer !== undefined; timer = firstDue(until)) {
        if (fired++ >= maxRunAllTimers) {
          throw new Error(
            `fakeClock.runAll: more than ${maxRunAllTimers} timers fired; does a timer re-arm itself?`,
          )
        }
        fire(timer)
        await turn()
      }
    },
    pending: () => timers.size,
    nextTimerAt() {
      const at = firstDue(Infinity)?.at
      return at === Infinity ? undefined : at
    },
    async settle<T>(promise: Promise<T>, options: SettleOptions = {}): Promise<Settled<T>> {
      const maxTimers = options.maxTimers ?? 100_000
      let settled: Settled<T> | undefined
      // Handled here, so a rejection is reported as data and never as unhandled.
      promise.then(
        (value) => {
          settled = { status: 'fulfilled', value }
        },
        (reason: unknown) => {
          settled = { status: 'rejected', reason }
        },
      )
      for (let fired = 0; ; fired++) {
        await turn()
        if (settled !== undefined) return settled
        const at = clock.nextTimerAt()
        if (at === undefined) {
          throw new Error(
            `fakeClock.settle: the promise is still pending and no timer is left to fire (at ${now} ms, after ${fired} timers): it would never settle`,
          )
        }
        if (fired >= maxTimers) {
          throw new Error(
            `fakeClock.settle: the promise is still pending after ${maxTimers} timers`,
          )
        }
        await clock.advance(at - now)
      }
    },
  }
  return clock
}

/**
 * Resolves on the next macrotask, after every queued promise reaction (and
 * the reactions those queue) has run. A fixed number of microtask rounds is
 * not enough: a long chain of awaits outlasts it. `MessageChannel` first, as
 * a test's global fake timers (`vi.useFakeTimers()`) replace `setImmediate`.
 */
function turn(): Promise<void> {
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel()
      // `onmessage` (which also starts the port) exists in every runtime; Node's types omit it.
      Reflect.set(channel.port1, 'onmessage', () => {
        channel.port1.close()
        resolve()
      })
      channel.port2.postMessage(undefined)
    })
  }
  return new Promise((resolve) => setImmediate(resolve))
}
