import { abortedError } from './call-errors.js'
import { CallRun } from './call-run.js'
import type { StreamSettings } from './call-settings.js'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse } from './chat-response.js'
import { continuationRequest, continuationStep } from './continuation.js'
import { UnderstudyError } from './errors.js'
import { emitHook, isThenable } from './emit-hook.js'
import { frozenCopy } from './frozen-copy.js'
import { isContent, PartialBuilder } from './partial-output.js'
import type { ReadSink, StreamAttempt } from './stream-attempt.js'
import type { FinishEvent, StreamEvent } from './stream-event.js'
import { copyEvent, interruptedError, isInterruption } from './stream-interruption.js'
import { buildStreamResponse, StreamResponse } from './stream-response.js'
import { StreamSelection, type Winner } from './stream-selection.js'

/** Where a stream call is. */
type Phase =
  /** Nothing has been read: no request has gone out. */
  | { readonly type: 'unread' }
  /** Attempts run until one produces content (the commit point). */
  | { readonly type: 'selecting'; readonly selection: StreamSelection }
  /** The winner's events go to the caller; `recorded` once its attempt is in the trace. */
  | { readonly type: 'streaming'; readonly winner: StreamAttempt; readonly recorded: boolean }
  /** The winner failed after its commit point; another target is asked to continue it. */
  | {
      readonly type: 'continuing'
      readonly interrupted: StreamAttempt
      readonly selection: StreamSelection
    }
  /** Over; `error` is thrown to the caller once (`delivered` after that). */
  | {
      readonly type: 'ended'
      readonly error: UnderstudyError | undefined
      readonly delivered: boolean
    }

/**
 * One `stream()` call, as its caller reads it. Before the commit point a
 * {@link StreamSelection} picks the winner, driving the same {@link CallRun}
 * ledger as `complete()`; after it, this hands the winner's events through
 * one pull at a time, and ends the call: a finish, an interruption with the
 * partial answer, or a continuation on another target.
 */
export class StreamCall {
  readonly #request: ChatRequest
  readonly #settings: StreamSettings
  readonly #run: CallRun<Winner>
  readonly #partial = new PartialBuilder()
  readonly #response = new StreamResponse()
  /** Events decided but not yet handed out: at most the start and the first content. */
  readonly #queue: StreamEvent[] = []
  #phase: Phase = unread
  /** The first failure after the commit point, when continuing: the one the error tells of. */
  #interruption: UnderstudyError | undefined
  /** Resolves the caller's read in progress. */
  #answer: ((read: Read) => void) | undefined
  /** The answer to a read given while `read()` ran, before any promise was made for it. */
  #answered: Read | undefined
  /** The caller's read in progress, if any. */
  #reading: Promise<IteratorResult<StreamEvent>> | undefined

  constructor(request: ChatRequest, settings: StreamSettings) {
    this.#request = request
    this.#settings = settings
    this.#run = new CallRun(settings)
  }

  /** Called at the first wait on `response`: the stream object reads the stream then, if no loop does. */
  set onAwait(hook: () => void) {
    this.#response.onAwait = hook
  }

  get response(): Promise<ChatResponse> {
    return this.#response.promise
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
    const phase = this.#phase
    if (phase.type === 'ended') return this.#endedLater()
    if (phase.type === 'unread') {
      // A read asked for while the first one starts (a hook's) waits its turn.
      this.#reading = answeringNow
      const begun = this.#after(this.#begin())
      this.#reading = begun
      return begun
    }
    // A provider that already holds the event answers before `read()`
    // returns: the caller then gets a settled promise, with no resolver pair
    // made for it. A read asked for meanwhile (a hook's) waits its turn.
    this.#answer = this.#keepAnswered
    this.#reading = answeringNow
    this.#winner().read(this.#sink)
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
      const winner = this.#winner()
      if (result.done === true) {
        answer(this.#after(this.#endedEarly(winner)))
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
        winner.read(this.#sink)
        return
      }
      answer(this.#after(this.#finish(winner, event)))
    },
    failure: (error) => {
      const answer = this.#answer as (read: Read) => void
      answer(this.#after(this.#afterInterruption(this.#winner(), error)))
    },
  }

  #winner(): StreamAttempt {
    const phase = this.#phase
    if (phase.type !== 'streaming') throw new RangeError(`StreamCall: no winner (${phase.type})`)
    return phase.winner
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

  #ended(): IteratorResult<StreamEvent> {
    const phase = this.#phase
    if (phase.type === 'ended' && phase.error !== undefined && !phase.delivered) {
      this.#phase = { type: 'ended', error: phase.error, delivered: true }
      throw phase.error
    }
    return { done: true, value: undefined }
  }

  /** The caller stopped reading: closes every upstream and ends the call as `aborted`. */
  stop(message: string): void {
    const phase = this.#phase
    const error = new UnderstudyError({ kind: 'aborted', message })
    if (phase.type === 'unread' || phase.type === 'selecting')
      this.#fail(this.#run.withTrace(error))
    else this.#abortCommitted(phase, error)
    // Leaving the loop is the caller's own doing: `response` rejects, the loop does not throw.
    const ended = this.#phase
    if (ended.type === 'ended') this.#phase = { type: 'ended', error: ended.error, delivered: true }
  }

  /** The caller's signal: before the commit point, the attempts end with it and so does the call. */
  readonly #onAbort = (): void => {
    const phase = this.#phase
    const error = abortedError(this.#settings.signal?.reason)
    if (phase.type === 'selecting') phase.selection.stop(error)
    else if (phase.type !== 'unread') this.#abortCommitted(phase, error)
  }

  /** Ends a call past its commit point as aborted, with what it delivered. */
  #abortCommitted(phase: Phase, error: UnderstudyError): void {
    if (phase.type === 'streaming') {
      phase.winner.stop(error)
      this.#interrupt(phase.winner, error)
    } else if (phase.type === 'continuing') {
      this.#fail(this.#interruptedError(phase.interrupted, error, ''))
    }
  }

  async #begin(): Promise<void> {
    const { signal } = this.#settings
    const run = this.#run
    if (signal?.aborted === true) throw run.withTrace(abortedError(signal.reason))
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    const pending = run.readCooldowns()
    const step = run.start(isThenable(pending) ? await pending : pending)
    // The store may have taken a while: the caller may have given up meanwhile.
    if (isAborted(signal)) throw run.withTrace(abortedError(signal?.reason))
    if (this.#phase.type === 'ended') return
    const selection = new StreamSelection(run, this.#request, this.#settings)
    this.#phase = { type: 'selecting', selection }
    const finishing = this.#commit(await selection.select(step), true)
    if (finishing !== undefined) await finishing
  }

  /**
   * The winner is known: the caller gets the start and its first event.
   * Returns the finish's work when the winner began with a finish, else
   * nothing: the common case takes no promise.
   */
  #commit(winner: Winner, announceStart: boolean): Promise<void> | undefined {
    const { attempt, first } = winner
    const phase = this.#phase
    if (phase.type === 'ended') {
      // The caller left as the winner came in: nobody will read it.
      attempt.stop(phase.error ?? new UnderstudyError({ kind: 'aborted', message: 'ended' }))
      return undefined
    }
    // A filtered answer taken at the end of the chain is already in the trace.
    const recorded = first.type === 'finish' && first.event.finishReason === 'content_filter'
    this.#phase = { type: 'streaming', winner: attempt, recorded }
    attempt.commit()
    if (announceStart) {
      const { entry } = attempt
      this.#queue.push(
        Object.freeze({
          type: 'start',
          target: entry.target,
          provider: entry.provider.id,
          model: entry.model,
        }),
      )
    }
    if (first.type !== 'content') return this.#finish(attempt, first.event)
    this.#partial.add(first.event)
    this.#queue.push(copyEvent(first.event))
    return undefined
  }

  /** The winner's body ended without its terminal signal: the stream is interrupted. */
  async #endedEarly(winner: StreamAttempt): Promise<void> {
    const { entry } = winner
    const error = new UnderstudyError({
      kind: 'incomplete',
      message: `${entry.target} ended its stream without its terminal signal`,
      provider: entry.provider.id,
      model: entry.model,
    })
    winner.stop(error)
    await this.#afterInterruption(winner, error)
  }

  /** The winner finished: its body is read to the end, then the call succeeds. */
  async #finish(winner: StreamAttempt, event: FinishEvent): Promise<void> {
    await winner.drain()
    const phase = this.#phase
    if (phase.type !== 'streaming') return
    const { clock, hooks } = this.#settings
    if (!phase.recorded) this.#run.succeeded(winner, clock.now())
    this.#detach()
    const usage = frozenCopy(event.usage)
    const attempts = Object.freeze(this.#run.attempts.slice())
    this.#phase = endedCleanly
    this.#queue.push(Object.freeze({ type: 'finish', finishReason: event.finishReason, usage }))
    // Built when someone wants it: a caller who only loops never pays for it.
    const { entry } = winner
    const partial = this.#partial
    const build = (): ChatResponse => buildStreamResponse(partial, entry, event, usage, attempts)
    if (hooks.length > 0) {
      const response = build()
      this.#response.settle({ response: () => response })
      emitHook(hooks, 'onSuccess', response)
    } else {
      this.#response.settle({ response: build })
    }
  }

  /** A failure after the commit point: continue on another target when asked and able, else end. */
  async #afterInterruption(winner: StreamAttempt, error: UnderstudyError): Promise<void> {
    if (this.#phase.type === 'ended') return
    if (this.#settings.midStream !== 'continue' || !isInterruption(error.kind)) {
      this.#interrupt(winner, error)
      return
    }
    this.#recordInterruption(winner, error)
    this.#interruption ??= error
    if (this.#partial.hasToolCalls) {
      const refusal = 'the partial answer holds tool calls, which cannot be continued'
      throw this.#interruptedError(winner, error, `; continuation refused: ${refusal}`)
    }
    const run = this.#run
    run.continueInterrupted()
    const step = continuationStep(run, winner.index)
    if (step === undefined) throw this.#interruptedError(winner, error, noContinuation)
    const request = continuationRequest(this.#request, this.#partial.text())
    const selection = new StreamSelection(run, request, this.#settings)
    this.#phase = { type: 'continuing', interrupted: winner, selection }
    let next: Winner
    try {
      next = await selection.select(step)
    } catch (failure) {
      throw this.#interruptedError(winner, failure as UnderstudyError, noContinuation)
    }
    await this.#commit(next, false)
  }

  /** Ends the call after its commit point with `error`: aborted, deadline, or stream_interrupted. */
  #interrupt(winner: StreamAttempt, error: UnderstudyError): void {
    if (this.#phase.type === 'ended') return
    this.#recordInterruption(winner, error)
    this.#fail(this.#interruptedError(winner, error, ''))
  }

  /** Puts the committed attempt's failure in the trace, once. */
  #recordInterruption(winner: StreamAttempt, error: UnderstudyError): void {
    const phase = this.#phase
    if (phase.type !== 'streaming' || phase.recorded) return
    this.#phase = { type: 'streaming', winner, recorded: true }
    this.#run.interrupted(winner, error, this.#settings.clock.now())
  }

  #interruptedError(
    winner: StreamAttempt,
    error: UnderstudyError,
    suffix: string,
  ): UnderstudyError {
    return interruptedError({
      entry: winner.entry,
      error,
      first: this.#interruption,
      partial: this.#partial,
      attempts: this.#run.attempts,
      suffix,
    })
  }

  #fail(error: UnderstudyError): void {
    const phase = this.#phase
    if (phase.type === 'ended') return
    this.#phase = { type: 'ended', error, delivered: false }
    if (phase.type === 'selecting' || phase.type === 'continuing') phase.selection.stop(error)
    if (phase.type === 'streaming') phase.winner.stop(error)
    this.#detach()
    this.#response.settle({ error })
    emitHook(this.#settings.hooks, 'onFailure', error)
  }

  #detach(): void {
    this.#settings.signal?.removeEventListener('abort', this.#onAbort)
  }
}

const noContinuation = '; no target could continue it'

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

const unread: Phase = Object.freeze({ type: 'unread' })
const endedCleanly: Phase = Object.freeze({ type: 'ended', error: undefined, delivered: true })

/** What a caller's read resolves with. */
type Read = IteratorResult<StreamEvent> | Promise<IteratorResult<StreamEvent>>

/** Stands for a read while the winner answers it synchronously: a read asked for meanwhile queues behind it. */
const answeringNow: Promise<IteratorResult<StreamEvent>> = Promise.resolve({
  done: true,
  value: undefined,
})
