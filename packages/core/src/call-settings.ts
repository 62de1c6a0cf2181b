import type { Plan } from './build-plan.js'
import type { Clock } from './clock.js'
import type { HealthStore, HealthThresholds } from './health-store.js'
import type { Hooks } from './hooks.js'
import type { MidStream } from './options.js'
import type { Policy } from './policy.js'

/** Everything one call runs with, resolved from the client's and the call's options. */
export interface CallSettings {
  readonly plan: Plan
  readonly policy: Policy
  readonly clock: Clock
  readonly random: () => number
  /** When the call must be over, in clock ms; `Infinity` for never. */
  readonly deadline: number
  readonly timeoutMs: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly signal: AbortSignal | undefined
  /** The client's hooks, then the call's. */
  readonly hooks: readonly Hooks[]
  readonly health:
    | { readonly store: HealthStore; readonly thresholds: HealthThresholds }
    | undefined
  /** Every key and header value the call knows, redacted from every error. */
  readonly secrets: readonly string[]
}

/** What a `stream()` call runs with besides {@link CallSettings}. */
export interface StreamSettings extends CallSettings {
  /** From an attempt's request to its first content, in ms; `Infinity` for no limit. */
  readonly firstTokenTimeoutMs: number
  /** The longest gap between content events after the first, in ms; `Infinity` for no limit. */
  readonly idleTimeoutMs: number
  /** When to start the next target beside a silent attempt, in ms; `undefined` for never. */
  readonly hedgeAfterMs: number | undefined
  readonly midStream: MidStream
}
