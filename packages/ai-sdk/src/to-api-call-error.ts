import { APICallError } from '@ai-sdk/provider'
import type { ErrorKind, PartialOutput, UnderstudyError } from '@understudy/core'
import { type TraceAttempt, traceAttempt } from './understudy-trace.js'

/** What `APICallError.data` holds when a chain failed: plain JSON. */
export interface UnderstudyErrorData {
  /** Why the chain failed: `all_failed`, `aborted`, `deadline`, `stream_interrupted`, … */
  readonly kind: ErrorKind
  /** Every attempt of the call, in order. */
  readonly attempts: readonly TraceAttempt[]
  /** What a stream had delivered when it failed after its first content. */
  readonly partial?: PartialOutput
}

/**
 * A failed chain as the AI SDK's `APICallError`, with `isRetryable: false`:
 * the chain already retried and fell back as its policy says, and the AI SDK's
 * own retries (`maxRetries`) would run the whole chain again. `data` holds the
 * kind and the attempts ({@link UnderstudyErrorData}); `cause` is the
 * `UnderstudyError`. Its `url` names the target that failed last, as
 * `understudy:<target>`: no base URL, no key.
 */
export function toAPICallError(error: UnderstudyError, primary: string): APICallError {
  const attempts = error.attempts.map(traceAttempt)
  const last = attempts[attempts.length - 1]
  const data: UnderstudyErrorData = {
    kind: error.kind,
    attempts,
    ...(error.partial !== undefined && { partial: error.partial }),
  }
  return new APICallError({
    message: error.message,
    url: `understudy:${last?.target ?? primary}`,
    requestBodyValues: undefined,
    ...(error.status !== undefined && { statusCode: error.status }),
    cause: error,
    isRetryable: false,
    data,
  })
}
