import type { Clock } from './clock.js'
import type { HealthStore } from './health-store.js'
import type { Hooks } from './hooks.js'
import type { PolicyOverrides } from './policy.js'
import type { Provider } from './provider.js'
import type { Target } from './target.js'

/** How long to wait before retrying the same target. */
export interface BackoffOptions {
  /**
   * The first retry waits a random time below this, in ms; each retry doubles it.
   * @default 500
   */
  readonly initialDelayMs?: number
  /**
   * The longest wait, in ms. A longer Retry-After is not slept on: the call
   * moves to the next target at once.
   * @default 10000
   */
  readonly maxDelayMs?: number
}

/** How the client keeps failing targets out of the way. */
export interface HealthOptions {
  /** Where outcomes are remembered. @default a fresh in-memory store per client */
  readonly store?: HealthStore
  /** Calls in the window before the failure rate can cool a target. @default 5 */
  readonly minCalls?: number
  /** Share of failed calls (0 to 1) that cools a target. @default 0.5 */
  readonly failureRate?: number
  /** How far back the window looks, in ms. @default 60000 */
  readonly windowMs?: number
  /** How long a cooled target is skipped, in ms. `0` means never cool down. @default 30000 */
  readonly cooldownMs?: number
}

/** Options of one call, each of which may also be a client default. */
export interface CallDefaults {
  /** The targets tried, in order, after the primary (`request.model`). */
  readonly fallbacks?: readonly Target[]
  /** Where a `context_window` failure goes; without it, `fallbacks`. */
  readonly contextWindowFallbacks?: readonly Target[]
  /** Where a `content_policy` failure (or a filtered answer) goes; without it, `fallbacks`. */
  readonly contentPolicyFallbacks?: readonly Target[]
  /** Retries per target: `0` means one attempt each. @default 1 */
  readonly retries?: number
  /** The whole call, in ms, all attempts and waits included; `Infinity` for none. @default 600000 */
  readonly timeoutMs?: number
  /** Each attempt, in ms; without it an attempt may use what is left of `timeoutMs`. */
  readonly attemptTimeoutMs?: number
  readonly backoff?: BackoffOptions
  /** Per-kind changes to the policy: `{ invalid_request: { fallback: true } }`. */
  readonly policy?: PolicyOverrides
  /** Observers of the call. A client's hooks and a call's both run, the client's first. */
  readonly hooks?: Hooks
  /**
   * `stream()` only: the longest an attempt may take from its request to its
   * first content, in ms. A slower attempt fails with kind `timeout`, before
   * the caller has seen anything, so the call retries or falls back.
   */
  readonly firstTokenTimeoutMs?: number
  /**
   * `stream()` only: the longest gap between content events after the
   * first, in ms. A longer one ends the stream with kind `stream_interrupted`
   * (its `cause` of kind `timeout`).
   */
  readonly idleTimeoutMs?: number
  /**
   * `stream()` only: when the running attempt has produced no content after
   * this many ms, the next target starts too; the first to produce content
   * wins and the other is cancelled (outcome `'hedged'`). `0` starts both at
   * once. Without it, no hedging.
   */
  readonly hedgeAfterMs?: number
  /**
   * `stream()` only: what a failure after the first content does. `'fail'`
   * ends the stream with kind `stream_interrupted` and the partial answer;
   * `'continue'` asks the next target that can take an assistant prefix to
   * continue a text-only partial answer, without repeating what was delivered.
   * @default 'fail'
   */
  readonly midStream?: MidStream
}

/** What a failure after a stream's first content does (see {@link CallDefaults.midStream}). */
export type MidStream = 'fail' | 'continue'

/** Options of `client.complete()` and `client.stream()`. */
export interface CallOptions extends CallDefaults {
  /** Aborting it cancels the attempt in flight and rejects with kind `aborted`. */
  readonly signal?: AbortSignal
  /** The primary target's key, instead of its provider's configured one. Not sent to fallbacks. */
  readonly apiKey?: string
  /** The primary target's base URL. Not used for fallbacks. */
  readonly baseURL?: string
  /** Headers for the primary target only. */
  readonly headers?: Readonly<Record<string, string>>
}

/** Options of `createClient()`: the providers, and defaults for every call. */
export interface ClientOptions extends CallDefaults {
  /** The providers targets may name, by their `id`. */
  readonly providers: readonly Provider[]
  /** Where time comes from. @default systemClock */
  readonly clock?: Clock
  /** Where backoff jitter comes from: a number in [0, 1). @default Math.random */
  readonly random?: () => number
  readonly health?: HealthOptions
}
