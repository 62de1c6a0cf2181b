import type { PlanEntry } from './build-plan.js'
import { allFailed, deadlineError, filteredError, withAttempts } from './call-errors.js'
import { readCooldowns, recordHealth } from './call-health.js'
import type { CallSettings } from './call-settings.js'
import { attemptError, attemptRecord, healthRecord } from './call-trace.js'
import {
  type DecideInput,
  type DecisionState,
  decide,
  firstStep,
  hedge,
  type Outcome,
  type Step,
} from './decide.js'
import { type Attempt, type ErrorKind, UnderstudyError } from './errors.js'
import { emitHook } from './emit-hook.js'
import { countsAgainstHealth } from './kinds.js'
import type { Policy } from './policy.js'

/** A step that makes an attempt. */
export type AttemptStep = Extract<Step, { readonly type: 'attempt' }>

/** A step that ends the call. */
export type EndStep = Exclude<Step, { readonly type: 'attempt' | 'succeed' }>

/** One attempt as the ledger knows it: which entry, which try of its target, since when. */
export interface AttemptRef {
  /** The plan entry attempted. */
  readonly index: number
  readonly entry: PlanEntry
  /** 0 for the target's first attempt in the call. */
  readonly retry: number
  /** When its request went out, in clock ms. */
  readonly started: number
}

/**
 * How a call that no attempt answered cleanly ends: with the last filtered
 * answer (`content_filter`), when that is the best there is, or an error.
 */
export type Ending<Filtered> =
  | { readonly type: 'filtered'; readonly answer: Filtered }
  | { readonly type: 'error'; readonly error: UnderstudyError }

/**
 * The ledger of one call, shared by `complete()` and `stream()` up to the
 * winning attempt: it owns the decision state, the trace of attempts, the
 * last error, the last filtered answer and what the health store hears, and
 * it turns a call that ends without an answer into its final error. The
 * drivers only run the attempts it asks for, so both end every call the
 * same way.
 *
 * `Filtered` is what a driver keeps of an answer whose finish reason was
 * `content_filter`: it moves on like a refusal, but is returned when nothing
 * better comes.
 */
export class CallRun<Filtered> {
  readonly settings: CallSettings
  /** The trace so far; each record frozen. */
  readonly attempts: Attempt[] = []
  #state: DecisionState | undefined
  #cooled: readonly boolean[] = []
  #policy: Policy
  #lastError: UnderstudyError | undefined
  #filtered: Filtered | undefined
  /** The latest outcome was a filtered answer, not an error. */
  #latestFiltered = false

  constructor(settings: CallSettings) {
    this.settings = settings
    this.#policy = settings.policy
  }

  /** Per group, whether it is cooling down; answers at once when the store does. */
  readCooldowns(): readonly boolean[] | Promise<readonly boolean[]> {
    return readCooldowns(this.settings)
  }

  /** The first step, once the cooldowns are known: the primary, or the first target not cooling. */
  start(cooled: readonly boolean[]): Step {
    this.#cooled = cooled
    const { state, step } = firstStep(this.settings.plan, cooled)
    this.#state = state
    return step
  }

  /** Records the targets `step` passes over because they are cooling down. */
  recordSkipped(step: AttemptStep): void {
    const { entries } = this.settings.plan
    for (const index of step.skipped) {
      const entry = entries[index] as PlanEntry
      this.record(attemptRecord(entry, 'skipped', 0, 0))
    }
  }

  /** Adds a record to the trace and tells `onAttempt`. */
  record(attempt: Attempt): void {
    const frozen = Object.freeze(attempt)
    this.attempts.push(frozen)
    if (this.settings.hooks.length > 0) emitHook(this.settings.hooks, 'onAttempt', frozen)
  }

  /** `attempt` answered: it goes in the trace as `ok`, and its target is healthy. */
  succeeded(attempt: AttemptRef, ended: number, status?: number): void {
    this.record(
      attemptRecord(
        attempt.entry,
        'ok',
        attempt.retry,
        duration(attempt, ended),
        undefined,
        status,
      ),
    )
    recordHealth(this.settings, attempt.entry, this.settings.plan, { ok: true, at: ended })
  }

  /**
   * `attempt` failed with `error`: records it, counts it against its target
   * when its kind does, and decides the next step. `running` lists attempts
   * still in flight beside it (a hedge), whose targets it must not pick.
   */
  failed(
    attempt: AttemptRef,
    error: UnderstudyError,
    ended: number,
    running: readonly AttemptRef[] = noneRunning,
  ): Step {
    this.#lastError = error
    this.#latestFiltered = false
    this.record(
      withCause(
        attemptRecord(
          attempt.entry,
          'error',
          attempt.retry,
          duration(attempt, ended),
          attemptError(error),
          error.status,
        ),
        error,
      ),
    )
    if (countsAgainstHealth(error.kind)) {
      const health = healthRecord(false, ended, error.retryAfterMs)
      recordHealth(this.settings, attempt.entry, this.settings.plan, health)
    }
    return this.#decide(
      attempt,
      { type: 'error', kind: error.kind, retryAfterMs: error.retryAfterMs },
      error,
      running,
    )
  }

  /**
   * `attempt` answered with a finish reason of `content_filter`: it is in
   * the trace as a `content_policy` failure (its target worked, so it stays
   * healthy), the call moves on like a refusal, and `answer` is kept in case
   * nothing better comes.
   */
  filtered(
    attempt: AttemptRef,
    answer: Filtered,
    ended: number,
    status?: number,
    running: readonly AttemptRef[] = noneRunning,
  ): Step {
    const { entry } = attempt
    const error = filteredError(entry, status)
    this.#filtered = answer
    this.#latestFiltered = true
    this.record(
      withCause(
        attemptRecord(
          entry,
          'error',
          attempt.retry,
          duration(attempt, ended),
          attemptError(error),
          status,
        ),
        error,
      ),
    )
    recordHealth(this.settings, entry, this.settings.plan, { ok: true, at: ended })
    return this.#decide(attempt, { type: 'error', kind: 'content_policy' }, error, running)
  }

  /** `attempt` lost a hedge and was cancelled: one attempt of its target, and nothing else. */
  hedged(attempt: AttemptRef, ended: number): void {
    this.record(attemptRecord(attempt.entry, 'hedged', attempt.retry, duration(attempt, ended)))
  }

  /**
   * The committed attempt of a stream failed after its first content: in the
   * trace as `stream_interrupted` (or the caller's `aborted` / `deadline`),
   * and against its target's health as `error`, its cause, counts.
   */
  interrupted(attempt: AttemptRef, error: UnderstudyError, ended: number): void {
    const kind =
      error.kind === 'aborted' || error.kind === 'deadline' ? error.kind : 'stream_interrupted'
    const record = attemptRecord(
      attempt.entry,
      'error',
      attempt.retry,
      duration(attempt, ended),
      error.status === undefined
        ? { kind, message: error.message }
        : { kind, message: error.message, status: error.status },
      error.status,
    )
    this.record(withCause(record, error))
    if (countsAgainstHealth(error.kind)) {
      recordHealth(this.settings, attempt.entry, this.settings.plan, { ok: false, at: ended })
    }
  }

  /**
   * The next step after a failure of `kind` that is already in the trace
   * (after a stream's commit point, or a target that cannot continue one).
   * No backoff jitter: such a step never retries.
   */
  decideAfter(index: number, kind: ErrorKind): Step {
    const state = { ...this.#current(), entry: index }
    const decision = decide(this.#input(state, { type: 'error', kind }, 0))
    this.#state = decision.state
    return decision.step
  }

  /**
   * The target to start beside the attempt at `running` when it has been
   * silent too long (hedging); `undefined` when no target is left.
   */
  hedge(running: number): AttemptStep | undefined {
    const state = { ...this.#current(), entry: running }
    const decision = hedge(this.settings.plan, state, this.#cooled)
    if (decision === undefined) return undefined
    this.#state = decision.state
    return decision.step as AttemptStep
  }

  /** Attempts cancelled because another won: the call is finished with their targets. */
  finishWith(losers: readonly AttemptRef[]): void {
    if (losers.length === 0) return
    const state = this.#current()
    const finished = state.finished.slice()
    for (const loser of losers) finished[loser.entry.group] = true
    this.#state = { ...state, finished }
  }

  /** From now on an interrupted stream moves on to the next target (continuation). */
  continueInterrupted(): void {
    this.#policy = { ...this.#policy, stream_interrupted: { retry: false, fallback: true } }
  }

  /** How the call ends at `step`: the last filtered answer, or its final error. */
  end(step: EndStep): Ending<Filtered> {
    const filtered = this.#filtered
    if (step.type === 'stop') {
      // A filtered answer the policy does not move on from is the answer.
      if (this.#latestFiltered && filtered !== undefined)
        return { type: 'filtered', answer: filtered }
      return { type: 'error', error: this.withTrace(this.#lastError ?? unknownStop()) }
    }
    if (step.type === 'deadline') return { type: 'error', error: this.#deadlineError() }
    if (filtered !== undefined) return { type: 'filtered', answer: filtered }
    return { type: 'error', error: allFailed(this.attempts, this.#lastError) }
  }

  /** `error` as the call's error: with the trace so far, and `cause` when given. */
  withTrace(error: UnderstudyError, cause?: UnderstudyError): UnderstudyError {
    return withAttempts(error, this.attempts, cause)
  }

  /** The deadline's error, if the call's time is up at `now`. */
  pastDeadline(now: number): UnderstudyError | undefined {
    return now < this.settings.deadline ? undefined : this.#deadlineError()
  }

  /** The deadline's error with the trace, the last attempt's error as its cause. */
  #deadlineError(): UnderstudyError {
    return this.withTrace(deadlineError(this.settings.timeoutMs), this.#lastError)
  }

  #current(): DecisionState {
    const state = this.#state
    if (state === undefined) throw new RangeError('CallRun: the call has not started')
    return state
  }

  #decide(
    attempt: AttemptRef,
    outcome: Outcome,
    error: UnderstudyError,
    running: readonly AttemptRef[],
  ): Step {
    const previous = this.#current()
    let state = previous
    if (running.length > 0 || previous.entry !== attempt.index) {
      // Seen from this attempt: the other one in flight counts as moved on from.
      const finished = previous.finished.slice()
      for (const other of running) finished[other.entry.group] = true
      state = { ...previous, entry: attempt.index, finished }
    }
    const decision = decide(this.#input(state, outcome, this.settings.random()))
    this.#state = decision.state
    this.#announce(attempt, decision.step, error)
    return decision.step
  }

  #input(state: DecisionState, outcome: Outcome, random: number): DecideInput {
    const { settings } = this
    return {
      plan: settings.plan,
      state,
      outcome,
      policy: this.#policy,
      cooled: this.#cooled,
      remainingMs: settings.deadline - settings.clock.now(),
      random,
      initialDelayMs: settings.initialDelayMs,
      maxDelayMs: settings.maxDelayMs,
    }
  }

  /** Tells the hooks that the call retries the same target or moves on to another. */
  #announce(attempt: AttemptRef, step: Step, error: UnderstudyError): void {
    const { hooks, plan } = this.settings
    if (hooks.length === 0 || step.type !== 'attempt') return
    const last = this.attempts[this.attempts.length - 1] as Attempt
    const next = plan.entries[step.entry] as PlanEntry
    if (next.group === attempt.entry.group) {
      emitHook(hooks, 'onRetry', { attempt: last, delayMs: step.delayMs, error })
    } else {
      emitHook(hooks, 'onFallback', { from: last, to: next.target, error })
    }
  }
}

const noneRunning: readonly AttemptRef[] = Object.freeze([])

/** How long `attempt` took; 0 when it ended before its request went out (a stream's backoff). */
function duration(attempt: AttemptRef, ended: number): number {
  return Math.max(0, ended - attempt.started)
}

/**
 * The record with the attempt's error as a non-enumerable `cause`: reachable
 * by whoever debugs an adapter (the error's own `cause` is what the provider
 * threw), absent from `JSON.stringify` and from any copy by spread.
 */
function withCause(record: Attempt, error: UnderstudyError): Attempt {
  Object.defineProperty(record, 'cause', { value: error, enumerable: false })
  return record
}

/** A stop with no error behind it cannot happen; if it ever does, it is still a typed error. */
function unknownStop(): UnderstudyError {
  return new UnderstudyError({ kind: 'unknown', message: 'The call stopped without an error' })
}
