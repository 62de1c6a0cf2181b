import { isUnderstudyError, type UnderstudyError } from '../errors.js'
import type { TestClock } from './test-clock.js'

/** How a promise ended. */
export type Settled<T> =
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown }

/**
 * Runs `clock`'s timers until `promise` settles and returns how it ended.
 * Throws when it is still pending after `rounds` rounds of timers: a call
 * that never settles fails its test instead of hanging it.
 */
export async function settle<T>(
  clock: TestClock,
  promise: Promise<T>,
  rounds = 1_000,
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
  for (let round = 0; settled === undefined && round < rounds; round++) await clock.runAll()
  if (settled === undefined)
    throw new Error(`settle: still pending after ${rounds} rounds of timers`)
  return settled
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
