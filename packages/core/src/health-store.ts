/** A value, or a promise of it: a store answers at once or over the network. */
export type Awaitable<T> = T | Promise<T>

/** When a target cools down, as the client configures it. */
export interface HealthThresholds {
  /** Calls in the window before the failure rate can cool the target. */
  readonly minCalls: number
  /** Share of failures in the window (0 to 1) that cools the target. */
  readonly failureRate: number
  /** How far back the window looks, in ms. */
  readonly windowMs: number
  /** How long a cooled target is skipped, in ms. `0` means never cool down. */
  readonly cooldownMs: number
}

/** One attempt's outcome, as the health store learns it. */
export interface HealthRecord {
  /** When the attempt ended, in the client clock's ms. */
  readonly at: number
  readonly ok: boolean
  /** The upstream's Retry-After on a failure: the target cools at least this long. */
  readonly retryAfterMs?: number
}

/**
 * Remembers how each target fared recently, so a target that keeps failing is
 * skipped for a while. Keys name a target (provider, model, base URL and a
 * hash of its key — never the key), the provider's configured base URL and
 * key standing in for those the target does not name. The interface may answer asynchronously so
 * a shared store (Redis) can serve many processes.
 */
export interface HealthStore {
  /**
   * For each key, when its cooldown ends (client clock ms), or `undefined`
   * when it is not cooling. A shorter array (even an empty one) means the
   * keys past its end are not cooling.
   */
  cooldowns(keys: readonly string[], now: number): Awaitable<readonly (number | undefined)[]>
  /** Records an attempt's outcome; may start or extend the key's cooldown, never shorten it. */
  record(key: string, record: HealthRecord, thresholds: HealthThresholds): Awaitable<void>
}
