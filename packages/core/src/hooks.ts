import type { ChatResponse } from './chat-response.js'
import type { Attempt, UnderstudyError } from './errors.js'

/** What `onRetry` receives: the attempt that failed and how long the call waits before the next. */
export interface RetryEvent {
  readonly attempt: Attempt
  readonly delayMs: number
  /** The attempt's error; its `cause` is what the provider threw. */
  readonly error: UnderstudyError
}

/** What `onFallback` receives: the attempt that failed and the target taken next. */
export interface FallbackEvent {
  readonly from: Attempt
  /** The next target, `"provider/model"`. */
  readonly to: string
  /** The failed attempt's error; its `cause` is what the provider threw. */
  readonly error: UnderstudyError
}

/** The name of a hook, as `onHookError` reports it. */
export type HookName = 'onAttempt' | 'onRetry' | 'onFallback' | 'onSuccess' | 'onFailure' | 'health'

type HookResult = void | Promise<void>

/**
 * Observers of a call. Each may be sync or async; the call does not wait for
 * them. A hook that throws or rejects is reported to `onHookError` and
 * changes nothing.
 */
export interface Hooks {
  /** After every attempt, with its record (skipped targets included); a failed one holds its error as `cause`. */
  readonly onAttempt?: (attempt: Attempt) => HookResult
  /** Before the call waits to retry the same target. */
  readonly onRetry?: (event: RetryEvent) => HookResult
  /** When the call moves on to the next target. */
  readonly onFallback?: (event: FallbackEvent) => HookResult
  /** When the call returns. */
  readonly onSuccess?: (response: ChatResponse) => HookResult
  /** When the call rejects. */
  readonly onFailure?: (error: UnderstudyError) => HookResult
  /** When a hook (or the health store) threw or rejected. Its own errors are dropped. */
  readonly onHookError?: (error: unknown, hook: HookName) => HookResult
}
