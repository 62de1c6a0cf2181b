import type { PlanEntry } from './build-plan.js'
import { type Attempt, UnderstudyError } from './errors.js'

/** `error` as the call's error: its fields, the call's attempts, and the attempt's error as cause. */
export function withAttempts(
  error: UnderstudyError,
  attempts: readonly Attempt[],
  cause?: UnderstudyError,
): UnderstudyError {
  return new UnderstudyError({
    kind: error.kind,
    message: error.message,
    provider: error.provider,
    model: error.model,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    requestId: error.requestId,
    attempts: Object.freeze(attempts.slice()),
    cause: cause ?? error.cause,
  })
}

/** The error of a call whose chain ran out: every attempt, the last error as cause. */
export function allFailed(
  attempts: readonly Attempt[],
  lastError: UnderstudyError | undefined,
): UnderstudyError {
  let retryAfterMs: number | undefined
  for (const attempt of attempts) {
    const wait = attempt.error?.retryAfterMs
    if (wait !== undefined && (retryAfterMs === undefined || wait < retryAfterMs))
      retryAfterMs = wait
  }
  const summary = attempts
    .map((attempt) =>
      attempt.outcome === 'error'
        ? `${attempt.target} ${attempt.error?.kind ?? 'unknown'}${attempt.status === undefined ? '' : ` ${attempt.status}`}`
        : `${attempt.target} ${attempt.outcome}`,
    )
    .join(', ')
  const tried = attempts.filter((attempt) => attempt.outcome !== 'skipped').length
  return new UnderstudyError({
    kind: 'all_failed',
    message: `All targets failed after ${tried} attempt${tried === 1 ? '' : 's'}: ${summary}`,
    retryAfterMs,
    attempts: Object.freeze(attempts.slice()),
    cause: lastError,
  })
}

/** The error of a call the caller aborted. */
export function abortedError(
  reason: unknown,
  origin?: { provider: string; model: string },
): UnderstudyError {
  return new UnderstudyError({
    kind: 'aborted',
    message: 'The call was aborted by its signal',
    ...origin,
    cause: reason,
  })
}

/** The error of a call whose `timeoutMs` ran out. */
export function deadlineError(
  timeoutMs: number,
  origin?: { provider: string; model: string },
): UnderstudyError {
  return new UnderstudyError({
    kind: 'deadline',
    message: `The call's timeout of ${timeoutMs} ms ran out`,
    ...origin,
  })
}

/** What a filtered answer (`content_filter`) counts as: a refusal of kind `content_policy`. */
export function filteredError(entry: PlanEntry, status?: number): UnderstudyError {
  return new UnderstudyError({
    kind: 'content_policy',
    message: `${entry.target} filtered its answer`,
    provider: entry.provider.id,
    model: entry.model,
    status,
  })
}
