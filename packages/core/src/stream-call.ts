import { AwaitedPromise } from './awaited-promise.js'
import type { PlanEntry } from './build-plan.js'
import { abortedError, allFailed, withAttempts } from './call-errors.js'
import { readCooldowns, recordHealth } from './call-health.js'
import type { StreamSettings } from './call-settings.js'
import {
  announce,
  attemptError,
  attemptRecord,
  healthRecord,
  record,
  skippedAttempt,
} from './call-trace.js'
import type { ChatRequest, ToolCall } from './chat-request.js'
import type { ChatResponse, Usage } from './chat-response.js'
import { continuationRequest } from './continuation.js'
import {
  type Decision,
  type DecisionState,
  decide,
  firstStep,
  hedge,
  type Outcome,
} from './decide.js'
import { type Attempt, type ErrorKind, UnderstudyError } from './errors.js'
import { emitHook, isThenable } from './emit-hook.js'
import { frozenCopy } from './frozen-copy.js'
import { PartialBuilder, isContent } from './partial-output.js'
import { countsAgainstHealth, type Policy } from './policy.js'
import type {
  FinishEvent,
  ProviderStreamEvent,
  StreamEvent,
  ToolCallDeltaEvent,
} from './stream-event.js'
import { type FirstRead, type ReadSink, StreamAttempt } from './stream-attempt.js'

/** An attempt that produced content first (or finished without any), and how it began. */
interface Winner {
  readonly attempt: StreamAttempt
  readonly first: Exclude<FirstRead, { type: 'error' }>
}

/**
 * One `stream()` call: picks its winning attempt as `complete()` would —
 * retrying and falling back, hedging when asked — without showing the caller
 * anything until the winner's first content (the commit point), then hands
 * the winner's events through one pull at a time. All per-call state lives
 * here; nothing is shared with other calls.
 */
export class StreamCall {
  readonly #request: ChatRequest
  readonly #settings: StreamSettings
  readonly #attempts: Attempt[] = []
  readonly #partial = new PartialBuilder()
  /** Events decided but not yet handed out: at most the start and the first content. */
  readonly #queue: StreamEvent[] = []
  /** Attempts in flight before the commit point: one, or two while hedging. */
  readonly #live: StreamAttempt[] = []
  /** Attempts already in the trace: each is recorded once. */
  readonly #recorded = new WeakSet<StreamAttempt>()
  #state: DecisionState | undefined
  #cooled: readonly boolean[] = []
  #winner: StreamAttempt | undefined
  #lastError: UnderstudyError | undefined
  /** The first error that interrupted the stream after its commit point, when continuing. */
  #interruption: UnderstudyError | undefined
  #started = false
  /** Resolves the caller's read in progress. */
  #answer: ((read: Read) => void) | undefined
  /** The answer to a read given while `read()` ran, before any promise was made for it. */
  #answered: Read | undefined
  /** The caller's read in progress, if any. */
  #reading: Promise<IteratorResult<StreamEvent>> | undefined
  #end: { readonly error?: UnderstudyError; delivered: boolean } | undefined
  #wake: (() => void) | undefined
  readonly #response: AwaitedPromise<ChatResponse>
  /** How the call ended, kept until someone waits on `response`. */
  #outcome: CallOutcome | undefined
  #awaited = false
  #onAwait: (() => void) | undefined
  #resolve!: (response: ChatResponse) => void
  #reject!: (error: UnderstudyError) => void

  constructor(request: ChatRequest, settings: StreamSettings) {
    this.#request = request
    this.#settings = settings
    this.#response = new AwaitedPromise<ChatResponse>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#response.onFirstAwait(() => {
      this.#awaited = true
      this.#deliverResponse()
      this.#onAwait?.()
    })
  }

  /**
   * Called at the first wait on `response` (after it is settled, if the
   * call is over): the stream object reads the stream then, if no loop does.
   */
  set onAwait(hook: () => void) {
    this.#onAwait = hook
  }

  get response(): AwaitedPromise<ChatResponse> {
    return this.#response
  }

  /**
   * The next event for the caller; rejects once with the call's error, then
   * is done. Reads are answered in order: one asked for while another is
   * pending waits its turn.
   *
   * Once the stream is committed, a content event takes one pull from the
   * winner and no async function: this is the per-chunk hot path.
   */
  next(): Promise<IteratorResult<StreamEvent>> {
    const reading = this.#reading
    if (reading !== undefined) {
      return reading.then(
        () => this.next(),
        () => this.next(),
      )
    }
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve({ done: false, value: queued })
    if (this.#end !== undefined) return this.#endedLater()
    if (!this.#started) {
      this.#started = true
      const begun = this.#after(this.#begin())
      this.#reading = begun
      return begun
    }
    // A provider that already holds the event answers before `read()`
    // returns: the caller then gets a settled promise, with no resolver pair
    // made for it. A read asked for meanwhile (a hook's) waits its turn.
    this.#answer = this.#keepAnswered
    this.#reading = answeringNow
    ;(this.#winner as StreamAttempt).read(this.#sink)
    const answered = this.#answered
    if (answered !== undefined) {
      this.#answered = undefined
      if (answered instanceof Promise) {
        this.#reading = answered
        return answered
      }
      return Promise.resolve(answered)
    }
    const read = new Promise(this.#keepAnswer)
    this.#reading = read
    return read
  }

  readonly #keepAnswered = (read: Read): void => {
    this.#answered = read
  }

  readonly #keepAnswer = (resolve: (read: Read) => void): void => {
    this.#answer = resolve
  }

  /** Where the winner's reads land; one object for the whole call. */
  readonly #sink: ReadSink = {
    result: (result) => {
      const answer = this.#answer as (read: Read) => void
      if (result.done === true) {
        answer(this.#after(this.#endedEarly()))
        return
      }
      const event = result.value
      if (isContent(event)) {
        this.#partial.add(event)
        this.#reading = undefined
        answer({ done: false, value: copyEvent(event) })
        return
      }
      if (event.type !== 'finish') {
        ;(this.#winner as StreamAttempt).read(this.#sink)
        return
      }
      answer(this.#after(this.#finish(this.#winner as StreamAttempt, event)))
    },
    failure: (error) => {
      const answer = this.#answer as (read: Read) => void
      answer(this.#after(this.#afterInterruption(this.#winner as StreamAttempt, error)))
    },
  }

  /** When `work` is done, the next queued event or the end; a failure of `work` ends the call. */
  #after(work: Promise<void>): Promise<IteratorResult<StreamEvent>> {
    return work.then(this.#fromQueue, (thrown: unknown) => {
      this.#fail(thrown as UnderstudyError)
      return this.#fromQueue()
    })
  }

  readonly #fromQueue = (): IteratorResult<StreamEvent> => {
    this.#reading = undefined
    const event = this.#queue.shift()
    if (event !== undefined) return { done: false, value: event }
    return this.#ended()
  }

  #endedLater(): Promise<IteratorResult<StreamEvent>> {
    try {
      return Promise.resolve(this.#ended())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** The caller stopped reading: closes every upstream and ends the call as `aborted`. */
  stop(message: string): void {
    if (this.#end !== undefined) return
    const error = new UnderstudyError({ kind: 'aborted', message })
    this.#stopAll(error)
    if (this.#winner === undefined) this.#fail(withAttempts(error, this.#attempts))
    else this.#interrupt(this.#winner, error)
    // Leaving the loop is the caller's own doing: `response` rejects, the loop does not throw.
    const end = this.#end as { delivered: boolean } | undefined
    if (end !== undefined) end.delivered = true
  }

  #ended(): IteratorResult<StreamEvent> {
    const end = this.#end
    if (end?.error !== undefined && !end.delivered) {
      end.delivered = true
      throw end.error
    }
    return { done: true, value: undefined }
  }

  async #begin(): Promise<void> {
    const { signal } = this.#settings
    if (signal?.aborted === true) throw withAttempts(abortedError(signal.reason), this.#attempts)
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    const pending = readCooldowns(this.#settings)
    this.#cooled = isThenable(pending) ? await pending : pending
    const { state, step } = firstStep(this.#settings.plan, this.#cooled)
    this.#state = state
    // The store may have taken a while: the caller may have given up meanwhile.
    if (isAborted(signal)) throw withAttempts(abortedError(signal?.reason), this.#attempts)
    const winner = await this.#select(this.#request, step)
    await this.#commit(winner, true)
  }

  readonly #onAbort = (): void => {
    const error = abortedError(this.#settings.signal?.reason)
    this.#stopAll(error)
    // Between two reads nobody is waiting on the winner: end the call now.
    if (this.#winner !== undefined) this.#interrupt(this.#winner, error)
  }

  /**
   * Runs attempts from `step` on until one produces content (or a finish
   * that stands without content). Resolves with the winner, or rejects with
   * the call's error. Every other attempt is over when it settles.
   */
  async #select(request: ChatRequest, step: Decision['step']): Promise<Winner> {
    const settled: { attempt: StreamAttempt; read: FirstRead }[] = []
    let filtered: Winner | undefined
    let hedgeTimer: unknown
    const { clock, plan } = this.#settings
    const clearHedge = (): void => {
      if (hedgeTimer !== undefined) clock.clearTimeout(hedgeTimer)
      hedgeTimer = undefined
    }

    const launch = (next: Extract<Decision['step'], { type: 'attempt' }>): void => {
      for (const index of next.skipped) {
        record(
          this.#attempts,
          this.#settings.hooks,
          skippedAttempt(plan.entries[index] as PlanEntry),
        )
      }
      const entry = plan.entries[next.entry] as PlanEntry
      const attempt = new StreamAttempt(
        request,
        next.entry,
        entry,
        next.retry,
        next.delayMs,
        this.#settings,
      )
      this.#live.push(attempt)
      attempt.first().then((read) => {
        settled.push({ attempt, read })
        this.#wake?.()
      })
      const { hedgeAfterMs } = this.#settings
      if (hedgeAfterMs !== undefined && this.#live.length === 1) {
        clearHedge()
        hedgeTimer = clock.setTimeout(() => {
          hedgeTimer = undefined
          if (this.#live.length !== 1 || this.#live[0] !== attempt || this.#end !== undefined)
            return
          const decision = hedge(plan, this.#stateFor(attempt), this.#cooled)
          if (decision === undefined) return
          this.#state = decision.state
          launch(decision.step as Extract<Decision['step'], { type: 'attempt' }>)
        }, next.delayMs + hedgeAfterMs)
      }
    }

    if (step.type !== 'attempt') throw this.#finalError(step.type)
    launch(step)
    try {
      for (;;) {
        const done = settled.shift()
        if (done === undefined) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve
          })
          this.#wake = undefined
          continue
        }
        const { attempt, read } = done
        this.#live.splice(this.#live.indexOf(attempt), 1)
        if (
          read.type === 'content' ||
          (read.type === 'finish' && read.event.finishReason === 'length')
        ) {
          this.#cancelLosers()
          return { attempt, first: read }
        }
        let outcome: Outcome
        if (read.type === 'finish') {
          // A filtered answer moves on like a refusal, but is the answer if nothing better comes.
          filtered = { attempt, first: read }
          // Its connection closes now; if it is the answer in the end, its finish is all there is.
          attempt.stop(lostFilter(attempt))
          outcome = { type: 'error', kind: 'content_policy' }
          this.#recordAttempt(attempt, 'error', {
            kind: 'content_policy',
            message: `${attempt.entry.target} filtered its answer`,
          })
        } else {
          const { error } = read
          if (error.kind === 'aborted' && this.#settings.signal?.aborted === true) {
            this.#recordError(attempt, error)
            throw withAttempts(error, this.#attempts)
          }
          this.#lastError = error
          outcome = { type: 'error', kind: error.kind, retryAfterMs: error.retryAfterMs }
          this.#recordError(attempt, error)
        }
        const previous = this.#stateFor(attempt)
        const decision = decide({
          plan,
          state: previous,
          outcome,
          policy: this.#policy(),
          cooled: this.#cooled,
          remainingMs: this.#settings.deadline - clock.now(),
          random: this.#settings.random(),
          initialDelayMs: this.#settings.initialDelayMs,
          maxDelayMs: this.#settings.maxDelayMs,
        })
        this.#state = decision.state
        announce(this.#settings.hooks, plan, previous, decision.step, this.#attempts)
        if (decision.step.type === 'attempt') {
          launch(decision.step)
          continue
        }
        // The other attempt of a hedge may still win.
        if (decision.step.type === 'exhausted' && this.#live.length > 0) continue
        if (decision.step.type === 'exhausted' && filtered !== undefined) return filtered
        throw this.#finalError(decision.step.type)
      }
    } catch (error) {
      this.#stopAll(error as UnderstudyError)
      throw error
    } finally {
      clearHedge()
    }
  }

  /** The decision state as seen from `attempt`: the other attempt in flight counts as moved on from. */
  #stateFor(attempt: StreamAttempt): DecisionState {
    const state = this.#state as DecisionState
    const others = this.#live.filter((live) => live !== attempt)
    if (others.length === 0 && state.entry === attempt.index) return state
    const finished = state.finished.slice()
    for (const other of others) finished[other.entry.group] = true
    return { ...state, entry: attempt.index, finished }
  }

  /** The policy; with continuation on, an interrupted stream moves on to the next target. */
  #policy(): Policy {
    if (this.#interruption === undefined) return this.#settings.policy
    return { ...this.#settings.policy, stream_interrupted: { retry: false, fallback: true } }
  }

  #finalError(step: 'succeed' | 'stop' | 'exhausted' | 'deadline'): UnderstudyError {
    const { timeoutMs } = this.#settings
    if (step === 'deadline') {
      return withAttempts(
        new UnderstudyError({
          kind: 'deadline',
          message: `The call's timeout of ${timeoutMs} ms ran out`,
        }),
        this.#attempts,
        this.#lastError,
      )
    }
    if (step === 'stop' && this.#lastError !== undefined)
      return withAttempts(this.#lastError, this.#attempts)
    return allFailed(this.#attempts, this.#lastError)
  }

  /** The winner is known: the others lose the hedge, and the caller gets the start and the first event. */
  async #commit(winner: Winner, announceStart: boolean): Promise<void> {
    const { attempt, first } = winner
    this.#winner = attempt
    attempt.commit()
    if (announceStart) {
      this.#queue.push(
        Object.freeze({
          type: 'start',
          target: attempt.entry.target,
          provider: attempt.entry.provider.id,
          model: attempt.entry.model,
        }),
      )
    }
    if (first.type === 'content') {
      this.#partial.add(first.event)
      this.#queue.push(copyEvent(first.event))
    } else {
      await this.#drain(attempt)
      this.#finishWith(attempt, first.event)
    }
  }

  /** The winner's body ended without its terminal signal: the stream is interrupted. */
  async #endedEarly(): Promise<void> {
    const winner = this.#winner as StreamAttempt
    const error = new UnderstudyError({
      kind: 'incomplete',
      message: `${winner.entry.target} ended its stream without its terminal signal`,
      provider: winner.entry.provider.id,
      model: winner.entry.model,
    })
    winner.stop(error)
    await this.#afterInterruption(winner, error)
  }

  /** The winner finished: its body is read to the end, then the call succeeds. */
  async #finish(winner: StreamAttempt, event: FinishEvent): Promise<void> {
    await this.#drain(winner)
    this.#finishWith(winner, event)
  }

  /**
   * Reads the winner to the end of its body after its finish, so the
   * connection goes back to the pool. What follows a finish is not content.
   */
  async #drain(winner: StreamAttempt): Promise<void> {
    if (winner.stopped !== undefined) return
    try {
      for (let reads = 0; reads < maxReadsAfterFinish; reads++) {
        if ((await winner.next()).done === true) {
          winner.finish()
          return
        }
      }
    } catch {
      // The answer is complete; a failure after its finish changes nothing.
    }
    winner.stop(new UnderstudyError({ kind: 'unknown', message: 'read past the finish' }))
  }

  /** The call succeeded: records it, resolves `response`, and hands out the finish event. */
  #finishWith(winner: StreamAttempt, event: FinishEvent): void {
    const { clock, hooks, plan } = this.#settings
    const ended = clock.now()
    // A filtered answer taken at the end of the chain is already in the trace as a failure.
    if (!this.#recorded.has(winner)) this.#recordAttempt(winner, 'ok', undefined, ended)
    recordHealth(this.#settings, winner.entry, plan, { ok: true, at: ended })
    this.#detach()
    const usage = frozenCopy(event.usage)
    const attempts = Object.freeze(this.#attempts.slice())
    this.#end = { delivered: true }
    this.#queue.push(Object.freeze({ type: 'finish', finishReason: event.finishReason, usage }))
    // Built when someone wants it: a caller who only loops never pays for it.
    const build = (): ChatResponse =>
      this.#buildResponse(winner, event.finishReason, usage, attempts)
    if (hooks.length > 0) {
      const response = build()
      this.#settleResponse({ response: () => response })
      emitHook(hooks, 'onSuccess', response)
    } else {
      this.#settleResponse({ response: build })
    }
  }

  #buildResponse(
    winner: StreamAttempt,
    finishReason: FinishEvent['finishReason'],
    usage: Usage,
    attempts: readonly Attempt[],
  ): ChatResponse {
    const text = this.#partial.text()
    const toolCalls = this.#partial.toolCalls()
    const reasoning = this.#partial.reasoning()
    const message: { role: 'assistant'; content: string; toolCalls?: readonly ToolCall[] } = {
      role: 'assistant',
      content: text,
    }
    if (toolCalls.length > 0) message.toolCalls = toolCalls
    // Field by field rather than spreads: V8 builds such a literal on a slow path.
    const response: Mutable<ChatResponse> = {
      text,
      message: Object.freeze(message),
      toolCalls,
      finishReason,
      usage,
      provider: winner.entry.provider.id,
      model: winner.entry.model,
      target: winner.entry.target,
      attempts,
    }
    if (reasoning !== undefined) response.reasoning = reasoning
    return Object.freeze(response)
  }

  /**
   * Settles `response` with the call's outcome once someone waits on it:
   * at once if someone already does, else at the first wait. A rejection
   * nobody waits for is never made, so it cannot go unhandled.
   */
  #settleResponse(outcome: CallOutcome): void {
    this.#outcome = outcome
    if (this.#awaited) this.#deliverResponse()
  }

  #deliverResponse(): void {
    const outcome = this.#outcome
    if (outcome === undefined) return
    this.#outcome = undefined
    if (outcome.response !== undefined) this.#resolve(outcome.response())
    else this.#reject(outcome.error)
  }

  /** A failure after the commit point: continue on another target when asked and able, else end. */
  async #afterInterruption(winner: StreamAttempt, error: UnderstudyError): Promise<void> {
    if (this.#end !== undefined) return
    const continued = this.#settings.midStream === 'continue' && isInterruption(error.kind)
    if (!continued) {
      this.#interrupt(winner, error)
      return
    }
    this.#recordInterruption(winner, error)
    this.#interruption ??= error
    this.#lastError = error
    const refusal = this.#partial.hasToolCalls
      ? 'the partial answer holds tool calls, which cannot be continued'
      : undefined
    if (refusal !== undefined) {
      throw this.#interruptedError(winner, error, `; continuation refused: ${refusal}`)
    }
    const request = continuationRequest(this.#request, this.#partial.text())
    let decision = this.#decideFor(winner, 'stream_interrupted')
    while (decision.step.type === 'attempt') {
      const { step } = decision
      const entry = this.#settings.plan.entries[step.entry] as PlanEntry
      if (entry.provider.assistantPrefix === true) {
        try {
          const next = await this.#select(request, step)
          await this.#commit(next, false)
          return
        } catch (failure) {
          throw this.#interruptedError(
            winner,
            failure as UnderstudyError,
            '; no target could continue it',
          )
        }
      }
      for (const index of step.skipped) {
        const skipped = this.#settings.plan.entries[index] as PlanEntry
        record(this.#attempts, this.#settings.hooks, skippedAttempt(skipped))
      }
      record(this.#attempts, this.#settings.hooks, {
        target: entry.target,
        provider: entry.provider.id,
        model: entry.model,
        outcome: 'skipped',
        error: {
          kind: 'unsupported',
          message: `${entry.target} cannot continue a partial answer: its provider takes no assistant prefix`,
        },
        retry: step.retry,
        durationMs: 0,
      })
      this.#state = decision.state
      decision = this.#decideAt(step.entry, 'unsupported')
    }
    throw this.#interruptedError(winner, error, '; no target could continue it')
  }

  #decideFor(winner: StreamAttempt, kind: ErrorKind): Decision {
    return this.#decideAt(winner.index, kind)
  }

  #decideAt(index: number, kind: ErrorKind): Decision {
    const state = { ...(this.#state as DecisionState), entry: index }
    const decision = decide({
      plan: this.#settings.plan,
      state,
      outcome: { type: 'error', kind },
      policy: this.#policy(),
      cooled: this.#cooled,
      remainingMs: this.#settings.deadline - this.#settings.clock.now(),
      random: 0,
      initialDelayMs: this.#settings.initialDelayMs,
      maxDelayMs: this.#settings.maxDelayMs,
    })
    this.#state = decision.state
    return decision
  }

  /** Ends the call after its commit point with `error`: aborted, deadline, or stream_interrupted. */
  #interrupt(winner: StreamAttempt, error: UnderstudyError): void {
    if (this.#end !== undefined) return
    this.#recordInterruption(winner, error)
    this.#fail(this.#interruptedError(winner, error, ''))
  }

  #interruptedError(
    winner: StreamAttempt,
    error: UnderstudyError,
    suffix: string,
  ): UnderstudyError {
    const partial = this.#partial.snapshot({})
    const { entry } = winner
    const first = this.#interruption ?? error
    if (error.kind === 'aborted' || error.kind === 'deadline') {
      return new UnderstudyError({
        kind: error.kind,
        message: `${error.message} after ${describeDelivered(partial.text.length)}`,
        provider: entry.provider.id,
        model: entry.model,
        attempts: Object.freeze(this.#attempts.slice()),
        partial,
        cause: error.cause,
      })
    }
    return new UnderstudyError({
      kind: 'stream_interrupted',
      message: `The stream from ${first === error ? entry.target : 'its target'} was interrupted after ${describeDelivered(partial.text.length)}: ${first.message}${suffix}`,
      provider: entry.provider.id,
      model: entry.model,
      attempts: Object.freeze(this.#attempts.slice()),
      partial,
      cause: first,
    })
  }

  /** Records the committed attempt's failure, once, counting against its health as its cause does. */
  #recordInterruption(winner: StreamAttempt, error: UnderstudyError): void {
    if (this.#recorded.has(winner)) return
    const { plan } = this.#settings
    const at = this.#recordAttempt(winner, 'error', {
      kind:
        error.kind === 'aborted' || error.kind === 'deadline' ? error.kind : 'stream_interrupted',
      message: error.message,
      ...(error.status !== undefined && { status: error.status }),
    })
    if (countsAgainstHealth(error.kind)) {
      recordHealth(this.#settings, winner.entry, plan, { ok: false, at })
    }
  }

  #recordError(attempt: StreamAttempt, error: UnderstudyError): void {
    const at = this.#recordAttempt(attempt, 'error', attemptError(error))
    if (countsAgainstHealth(error.kind)) {
      recordHealth(
        this.#settings,
        attempt.entry,
        this.#settings.plan,
        healthRecord(false, at, error.retryAfterMs),
      )
    }
  }

  /** Adds `attempt`'s record to the trace; returns when it ended. */
  #recordAttempt(
    attempt: StreamAttempt,
    outcome: Attempt['outcome'],
    error: Attempt['error'],
    ended = this.#settings.clock.now(),
  ): number {
    const entryRecord = attemptRecord(
      attempt.entry,
      outcome,
      attempt.retry,
      Math.max(0, ended - attempt.started),
      error,
      error?.status,
    )
    record(this.#attempts, this.#settings.hooks, entryRecord)
    this.#recorded.add(attempt)
    return ended
  }

  /** The hedge is won: every other attempt in flight is cancelled and recorded as hedged. */
  #cancelLosers(): void {
    const losers = this.#live.splice(0)
    if (losers.length === 0) return
    // A loser is finished with for the call, like a target moved on from.
    const state = this.#state as DecisionState
    const finished = state.finished.slice()
    for (const loser of losers) finished[loser.entry.group] = true
    this.#state = { ...state, finished }
    for (const loser of losers) {
      loser.stop(
        new UnderstudyError({
          kind: 'aborted',
          message: `${loser.entry.target} lost the hedge`,
          provider: loser.entry.provider.id,
          model: loser.entry.model,
        }),
      )
      this.#recordAttempt(loser, 'hedged', undefined)
    }
  }

  #stopAll(reason: UnderstudyError): void {
    for (const attempt of this.#live) attempt.stop(reason)
    this.#winner?.stop(reason)
  }

  #fail(error: UnderstudyError): void {
    if (this.#end !== undefined) return
    this.#end = { error, delivered: false }
    this.#stopAll(error)
    this.#detach()
    this.#settleResponse({ error })
    emitHook(this.#settings.hooks, 'onFailure', error)
  }

  #detach(): void {
    this.#settings.signal?.removeEventListener('abort', this.#onAbort)
    this.#wake?.()
  }
}

/** Events a provider may send after its finish before its body ends; past that, the read stops. */
const maxReadsAfterFinish = 8

/** How a call ended: a response to build, or an error. */
type CallOutcome =
  | { readonly response: () => ChatResponse; readonly error?: undefined }
  | { readonly response?: undefined; readonly error: UnderstudyError }

/** What a caller's read resolves with. */
type Read = IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>>

/** Stands for a read while the winner answers it synchronously: a read asked for meanwhile queues behind it. */
const answeringNow: Promise<IteratorResult<StreamEvent>> = Promise.resolve({
  done: true,
  value: undefined,
})

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Kinds of failure after the commit point that continuation may mend: not the caller's own. */
function isInterruption(kind: ErrorKind): boolean {
  return kind !== 'aborted' && kind !== 'deadline'
}

function describeDelivered(characters: number): string {
  return `${characters} character${characters === 1 ? '' : 's'}`
}

/**
 * A content event as the caller gets it: a fresh object, so a provider that
 * reuses its event objects cannot make two callers share one.
 */
function copyEvent(event: ProviderStreamEvent): StreamEvent {
  switch (event.type) {
    case 'text':
      return { type: 'text', text: event.text }
    case 'reasoning':
      return { type: 'reasoning', text: event.text }
    case 'tool-call-delta': {
      const delta: Mutable<ToolCallDeltaEvent> = {
        type: 'tool-call-delta',
        index: event.index,
        argumentsDelta: event.argumentsDelta,
      }
      if (event.id !== undefined) delta.id = event.id
      if (event.name !== undefined) delta.name = event.name
      return delta
    }
    default:
      return event
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function lostFilter(attempt: StreamAttempt): UnderstudyError {
  return new UnderstudyError({
    kind: 'content_policy',
    message: `${attempt.entry.target} filtered its answer`,
    provider: attempt.entry.provider.id,
    model: attempt.entry.model,
  })
}
