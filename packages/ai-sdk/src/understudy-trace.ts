import type { Attempt, ErrorKind } from '@understudy/core'

/**
 * One attempt of the chain, as plain JSON: no key, no header, no body, no `cause`.
 * (Types, not interfaces, here: the AI SDK's `providerMetadata` is a JSON
 * type with an index signature, which only a type alias satisfies.)
 */
export type TraceAttempt = {
  /** The target as `"provider/model"`. */
  readonly target: string
  readonly provider: string
  readonly model: string
  /** `'ok'`, `'error'`, `'skipped'` (cooling down) or `'hedged'` (lost a hedge). */
  readonly outcome: Attempt['outcome']
  /** 0 for a target's first attempt in the call, 1 for its first retry, … */
  readonly retry: number
  readonly durationMs: number
  /** The HTTP status of the answer, when there was one. */
  readonly status?: number
  /** Why the attempt failed; only on failed attempts. */
  readonly error?: {
    readonly kind: ErrorKind
    readonly message: string
    readonly status?: number
    readonly retryAfterMs?: number
  }
}

/**
 * What `providerMetadata.understudy` holds after a call through
 * `understudyModel`: the target that served it and every attempt, in order,
 * the winning one last. Plain JSON, so it survives `JSON.stringify`, the AI
 * SDK's UI message streams and logs.
 */
export type UnderstudyTrace = {
  /** The target that served the call: `"openai/gpt-4o"`. */
  readonly target: string
  readonly provider: string
  readonly model: string
  readonly attempts: readonly TraceAttempt[]
}

/** The JSON record of one attempt: fields copied one by one, absent ones left out. */
export function traceAttempt(attempt: Attempt): TraceAttempt {
  const { error } = attempt
  return {
    target: attempt.target,
    provider: attempt.provider,
    model: attempt.model,
    outcome: attempt.outcome,
    retry: attempt.retry,
    durationMs: attempt.durationMs,
    ...(attempt.status !== undefined && { status: attempt.status }),
    ...(error !== undefined && {
      error: {
        kind: error.kind,
        message: error.message,
        ...(error.status !== undefined && { status: error.status }),
        ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
      },
    }),
  }
}

/** The trace of a call that succeeded. */
export function traceOf(response: {
  readonly target: string
  readonly provider: string
  readonly model: string
  readonly attempts: readonly Attempt[]
}): UnderstudyTrace {
  return {
    target: response.target,
    provider: response.provider,
    model: response.model,
    attempts: response.attempts.map(traceAttempt),
  }
}
