import type { PlanEntry } from './build-plan.js'
import { filteredError } from './call-errors.js'
import type { AttemptStep, CallRun } from './call-run.js'
import type { StreamSettings } from './call-settings.js'
import type { ChatRequest } from './chat-request.js'
import type { Step } from './decide.js'
import { UnderstudyError } from './errors.js'
import { type FirstRead, StreamAttempt } from './stream-attempt.js'

/** An attempt that produced content first (or finished without any), and how it began. */
export interface Winner {
  readonly attempt: StreamAttempt
  readonly first: Exclude<FirstRead, { readonly type: 'error' }>
}

/** An attempt whose first read is in. */
interface Settled {
  readonly attempt: StreamAttempt
  readonly read: FirstRead
}

/**
 * The part of a `stream()` call before its commit point: runs the attempts
 * the call's {@link CallRun} asks for — two at once while hedging — until one
 * produces content, or a finish that stands without content. Nothing of the
 * attempts that fail reaches the caller; the ledger records them, as it
 * does for `complete()`.
 */
export class StreamSelection {
  readonly #run: CallRun<Winner>
  readonly #request: ChatRequest
  readonly #settings: StreamSettings
  /** Attempts in flight: one, or two while hedging. */
  readonly #live: StreamAttempt[] = []
  /**
   * The first read of the one attempt in flight, when the call does not
   * hedge: awaited as it is, with no queue, the common case.
   */
  #first: Promise<FirstRead> | undefined
  /** While hedging: attempts whose first read is in, in the order they came. */
  readonly #settled: Settled[] = []
  #wake: (() => void) | undefined
  #hedgeTimer: unknown
  #stopped = false

  constructor(run: CallRun<Winner>, request: ChatRequest, settings: StreamSettings) {
    this.#run = run
    this.#request = request
    this.#settings = settings
  }

  /**
   * Runs attempts from `step` on. Resolves with the winner, or rejects with
   * the call's error; every other attempt is over when it settles.
   */
  async select(step: Step): Promise<Winner> {
    try {
      for (;;) {
        if (step.type === 'attempt') this.#launch(step)
        else if (step.type !== 'exhausted' || this.#live.length === 0) return this.#end(step)
        // else: the other attempt of a hedge may still win.
        let attempt: StreamAttempt
        let read: FirstRead
        const first = this.#first
        if (first === undefined) ({ attempt, read } = await this.#nextSettled())
        else {
          // The common case, no hedging: one attempt, its first read awaited as it is.
          this.#first = undefined
          attempt = this.#live[0] as StreamAttempt
          read = await first
        }
        this.#live.splice(this.#live.indexOf(attempt), 1)
        if (read.type === 'error') {
          step = this.#run.failed(attempt, read.error, this.#now(), this.#live)
        } else if (read.type === 'content' || read.event.finishReason === 'length') {
          this.#cancelLosers()
          return { attempt, first: read }
        } else {
          // Its connection closes now; if it is the answer in the end, its finish is all there is.
          attempt.stop(filteredError(attempt.entry))
          const answer = { attempt, first: read }
          step = this.#run.filtered(attempt, answer, this.#now(), undefined, this.#live)
        }
      }
    } catch (error) {
      this.stop(error as UnderstudyError)
      throw error
    } finally {
      this.#clearHedge()
    }
  }

  #now(): number {
    return this.#settings.clock.now()
  }

  /** Ends every attempt in flight with `reason`; the selection then ends with the call's error. */
  stop(reason: UnderstudyError): void {
    this.#stopped = true
    for (const attempt of this.#live) attempt.stop(reason)
    this.#wake?.()
  }

  #end(step: Exclude<Step, AttemptStep>): Winner {
    if (step.type === 'succeed')
      throw new RangeError('StreamSelection: no attempt produced content')
    const ending = this.#run.end(step)
    if (ending.type === 'error') throw ending.error
    return ending.answer
  }

  /** While hedging: the next attempt whose first read is in. */
  async #nextSettled(): Promise<Settled> {
    for (;;) {
      const done = this.#settled.shift()
      if (done !== undefined) return done
      await new Promise<void>(this.#keepWake)
      this.#wake = undefined
    }
  }

  readonly #keepWake = (resolve: () => void): void => {
    this.#wake = resolve
  }

  #launch(step: AttemptStep): void {
    this.#run.recordSkipped(step)
    const entry = this.#settings.plan.entries[step.entry] as PlanEntry
    const { retry, delayMs } = step
    const attempt = new StreamAttempt(
      this.#request,
      step.entry,
      entry,
      retry,
      delayMs,
      this.#settings,
    )
    this.#live.push(attempt)
    const first = attempt.first()
    const { hedgeAfterMs, clock } = this.#settings
    if (hedgeAfterMs === undefined) {
      this.#first = first
      return
    }
    first.then((read) => {
      this.#settled.push({ attempt, read })
      this.#wake?.()
    })
    if (this.#live.length === 1) {
      this.#clearHedge()
      this.#hedgeTimer = clock.setTimeout(() => this.#hedge(attempt), delayMs + hedgeAfterMs)
    }
  }

  /** `attempt` has been silent too long: the next target starts beside it. */
  #hedge(attempt: StreamAttempt): void {
    this.#hedgeTimer = undefined
    if (this.#stopped || this.#live.length !== 1 || this.#live[0] !== attempt) return
    const step = this.#run.hedge(attempt.index)
    if (step !== undefined) this.#launch(step)
  }

  #clearHedge(): void {
    if (this.#hedgeTimer === undefined) return
    this.#settings.clock.clearTimeout(this.#hedgeTimer)
    this.#hedgeTimer = undefined
  }

  /** The hedge is won: every other attempt in flight is cancelled and recorded as hedged. */
  #cancelLosers(): void {
    const losers = this.#live.splice(0)
    if (losers.length === 0) return
    this.#run.finishWith(losers)
    for (const loser of losers) {
      const { entry } = loser
      const reason = new UnderstudyError({
        kind: 'aborted',
        message: `${entry.target} lost the hedge`,
        provider: entry.provider.id,
        model: entry.model,
      })
      loser.stop(reason)
      this.#run.hedged(loser, this.#now())
    }
  }
}
