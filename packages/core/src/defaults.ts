import type { MidStream } from './options.js'

/**
 * Every default of the client, named in one place. Core's README says why
 * each is what it is.
 */
/** The names and values of the client's defaults. */
export interface Defaults {
  readonly retries: number
  readonly timeoutMs: number
  readonly backoffInitialDelayMs: number
  readonly backoffMaxDelayMs: number
  readonly healthMinCalls: number
  readonly healthFailureRate: number
  readonly healthWindowMs: number
  readonly healthCooldownMs: number
  readonly healthMaxTargets: number
  readonly midStream: MidStream
}

export const defaults: Defaults = Object.freeze({
  /** Retries per target. One retry absorbs a blip; past that the next target is the better retry. */
  retries: 1,
  /** The whole call, in ms: the official OpenAI and Anthropic SDKs wait 10 minutes too. */
  timeoutMs: 600_000,
  /** First backoff ceiling, in ms; each retry doubles it, and full jitter picks in [0, ceiling). */
  backoffInitialDelayMs: 500,
  /**
   * The longest wait before a retry, in ms. A longer wait (a long Retry-After)
   * is not slept on: the call moves to the next target at once.
   */
  backoffMaxDelayMs: 10_000,
  /** Calls a target must have had in the window before its failure rate can cool it. */
  healthMinCalls: 5,
  /** Share of failed calls in the window that cools a target down. */
  healthFailureRate: 0.5,
  /** How far back the health window looks, in ms. */
  healthWindowMs: 60_000,
  /** How long a cooled-down target is skipped, in ms. */
  healthCooldownMs: 30_000,
  /** Targets the in-memory health store remembers; the least recently used go first. */
  healthMaxTargets: 1_000,
  /**
   * A stream that fails after its first content ends with the partial answer:
   * continuing on another model changes the voice mid-answer, so it is opt-in.
   */
  midStream: 'fail',
})
