import type { PlanEntry } from './build-plan.js'
import type { Attempt, AttemptError, UnderstudyError } from './errors.js'
import type { HealthRecord } from './health-store.js'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * An attempt's record. Built field by field: an object literal with
 * conditional spreads followed by more fields takes a slow path in V8
 * (~1 µs each on Node 20), and every attempt makes one.
 */
export function attemptRecord(
  entry: PlanEntry,
  outcome: Attempt['outcome'],
  retry: number,
  durationMs: number,
  error?: AttemptError,
  status?: number,
): Attempt {
  const attempt: Mutable<Attempt> = {
    target: entry.target,
    provider: entry.provider.id,
    model: entry.model,
    outcome,
    retry,
    durationMs,
  }
  if (error !== undefined) attempt.error = error
  if (status !== undefined) attempt.status = status
  return attempt
}

/** What the trace says of an attempt's error: its kind, message, status and Retry-After. */
export function attemptError(error: UnderstudyError): AttemptError {
  const record: Mutable<AttemptError> = { kind: error.kind, message: error.message }
  if (error.status !== undefined) record.status = error.status
  if (error.retryAfterMs !== undefined) record.retryAfterMs = error.retryAfterMs
  return record
}

/** What the health store hears of an attempt: ok or not, when, and any Retry-After. */
export function healthRecord(ok: boolean, at: number, retryAfterMs?: number): HealthRecord {
  return retryAfterMs === undefined ? { ok, at } : { ok, at, retryAfterMs }
}
