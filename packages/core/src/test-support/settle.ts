import { isUnderstudyError, type UnderstudyError } from '../errors.js'
import type { TestClock } from './test-clock.js'

/** How a promise ended. */
export type Settled<T> =
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown }

/**
 * Runs `clock`'s timers, one instant at a time, until `promise` settles, and
 * returns how it ended. Before each timer every queued promise reaction runs
 * (a macrotask turn), as in a real event loop: a timer never fires while the
 * code under test still has work to do before it. Throws, failing the test,
 * when the promise is still pending with no timer left or after `maxTimers`
 * instants: a call that never settles fails its test instead of hanging it.
 */
export async function settle<T>(
  clock: TestClock,
  promise: Promise<T>,
  maxTimers = 100_000,
): Promise<Settled<T>> {
  let settled: Settled<T> | undefined
  promise.then(
    (value) => {
      settled = { status: 'fulfilled', value }
    },
    (reason: unknown) => {
      settled = { status: 'rejected', reason }
    },
  )
  for (let fired = 0; ; fired++) {
    await drain()
    if (settled !== undefined) return settled
    const at = clock.nextTimerAt()
    if (at === undefined) throw new Error('settle: still pending, and no timer is left to fire')
    if (fired >= maxTimers) throw new Error(`settle: still pending after ${maxTimers} timers`)
    await clock.advance(at - clock.now())
  }
}

/** Resolves on the next macrotask, once every queued promise reaction has run. */
export function drain(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel()
    const onMessage = (): void => {
      channel.port1.close()
      resolve()
    }
    channel.port1.onmessage = onMessage
    channel.port2.postMessage(undefined)
  })
}

/** The value of a call that must have succeeded; throws (failing the test) with the error otherwise. */
export function fulfilled<T>(settled: Settled<T>): T {
  if (settled.status === 'fulfilled') return settled.value
  throw new Error('expected the call to succeed, but it failed', { cause: settled.reason })
}

/**
 * The error of a call that must have failed with an `UnderstudyError`;
 * throws (failing the test) when it succeeded or failed with anything else.
 */
export function rejected(settled: Settled<unknown>): UnderstudyError {
  if (settled.status === 'fulfilled') throw new Error('expected the call to fail, but it succeeded')
  if (isUnderstudyError(settled.reason)) return settled.reason
  throw new Error('expected an UnderstudyError', { cause: settled.reason })
}
