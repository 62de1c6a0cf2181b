import { AttemptContext } from './attempt-context.js'
import { buildAttemptRequest } from './attempt-request.js'
import type { PlanEntry } from './build-plan.js'
import { deadlineError } from './call-errors.js'
import type { StreamSettings } from './call-settings.js'
import type { ChatRequest } from './chat-request.js'
import { UnderstudyError } from './errors.js'
import { isContent } from './partial-output.js'
import { nextReady, type ReadyIterator } from './next-ready.js'
import type { FinishEvent, ProviderStreamEvent } from './stream-event.js'
import { toUnderstudyError } from './to-understudy-error.js'

/** Whom one read of an attempt answers. */
export interface ReadSink {
  result(result: IteratorResult<ProviderStreamEvent>): void
  failure(error: UnderstudyError): void
}

/** How an attempt's stream began: its first content, a finish without content, or a failure. */
export type FirstRead =
  | { readonly type: 'content'; readonly event: ProviderStreamEvent }
  /** A finish before any content: `length` (an answer cut to nothing) or `content_filter`. */
  | { readonly type: 'finish'; readonly event: FinishEvent }
  | { readonly type: 'error'; readonly error: UnderstudyError }

/**
 * One attempt of a `stream()` call: the provider's stream for one target,
 * read one event per pull so a slow consumer holds the upstream back instead
 * of the engine buffering it.
 *
 * Before its first content the attempt is bounded by the first-token timeout,
 * its attempt timeout and the call's deadline; after {@link commit}, by the
 * idle timeout and the deadline. One timer at a time, re-armed lazily: a
 * content event only notes the time, so a chunk costs no timer call.
 *
 * {@link stop} ends it at once, whatever the provider does: the context's
 * abort closes the connection, a pending read rejects with the reason, and
 * no timer is left.
 */
export class StreamAttempt {
  /** The plan entry attempted. */
  readonly index: number
  readonly entry: PlanEntry
  /** 0 for the target's first attempt in the call. */
  readonly retry: number
  /** When the request went out (after any backoff), in clock ms; the launch time until then. */
  started: number
  readonly #request: ChatRequest
  readonly #settings: StreamSettings
  readonly #origin: { readonly provider: string; readonly model: string }
  #delayMs: number
  #context: AttemptContext | undefined
  #iterator: AsyncIterator<ProviderStreamEvent> | undefined
  /** The iterator offers {@link nextReady}. */
  #ready = false
  #timer: unknown
  /** When the running timer's limit falls due: the first-token or idle limit, or the deadline. */
  #due = Infinity
  #committed = false
  /** Committed with a finite idle timeout: content times are noted. */
  #tracksIdle = false
  #lastContent = 0
  /** Whom the read in flight answers. */
  #sink: ReadSink | undefined
  #waiting: (() => void) | undefined
  #stopped: UnderstudyError | undefined

  constructor(
    request: ChatRequest,
    index: number,
    entry: PlanEntry,
    retry: number,
    delayMs: number,
    settings: StreamSettings,
  ) {
    this.#request = request
    this.index = index
    this.entry = entry
    this.retry = retry
    this.#delayMs = delayMs
    this.#settings = settings
    this.#origin = { provider: entry.provider.id, model: entry.model }
    this.started = settings.clock.now()
  }

  get stopped(): UnderstudyError | undefined {
    return this.#stopped
  }

  /**
   * Waits out the backoff, sends the request and reads until the first
   * content, a finish, or a failure. Never rejects.
   */
  async first(): Promise<FirstRead> {
    try {
      if (this.#delayMs > 0 && !(await this.#pause(this.#delayMs))) return this.#failed()
      const { clock, deadline } = this.#settings
      this.started = clock.now()
      if (this.started >= deadline) {
        return { type: 'error', error: deadlineError(this.#settings.timeoutMs, this.#origin) }
      }
      const limit = Math.min(
        this.#settings.firstTokenTimeoutMs,
        this.entry.attemptTimeoutMs,
        deadline - this.started,
      )
      this.#context = new AttemptContext(this.entry, this.started + limit)
      this.#arm(this.started + limit)
      const iterable = this.entry.provider.stream(
        buildAttemptRequest(this.#request, this.entry),
        this.#context,
      )
      const iterator = iterable[Symbol.asyncIterator]()
      this.#iterator = iterator
      this.#ready = typeof (iterator as Partial<ReadyIterator>)[nextReady] === 'function'
      for (;;) {
        const result = await this.next()
        if (result.done === true) {
          return this.#error(
            'incomplete',
            `${this.entry.target} ended its stream without content or a finish`,
          )
        }
        const event = result.value
        if (isContent(event)) return { type: 'content', event }
        if (event.type !== 'finish') continue
        if (event.finishReason === 'length' || event.finishReason === 'content_filter')
          return { type: 'finish', event }
        return this.#error(
          'empty',
          `${this.entry.target} answered with no text and no tool call (finish reason ${event.finishReason})`,
        )
      }
    } catch (thrown) {
      if (this.#stopped !== undefined) return this.#failed()
      const error = toUnderstudyError(thrown, this.#origin, this.#settings.secrets)
      this.stop(error)
      return { type: 'error', error }
    }
  }

  /** The attempt won: from now on the idle timeout applies instead of the first-token one. */
  commit(): void {
    if (this.#stopped !== undefined) return
    this.#committed = true
    this.#tracksIdle = Number.isFinite(this.#settings.idleTimeoutMs)
    this.#lastContent = this.#settings.clock.now()
    const due = this.#idleDue()
    // Without an idle timeout the limit is the deadline, often already armed: keep that timer.
    if (due !== this.#due || this.#timer === undefined) this.#arm(due)
  }

  /** The next event, as a promise: for the reads before the commit point and after the finish. */
  next(): Promise<IteratorResult<ProviderStreamEvent>> {
    return new Promise((result, failure) => this.read({ result, failure }))
  }

  /**
   * Reads the next event and tells `sink`: its result, or the failure that
   * ends the attempt (its own, or {@link stop}'s reason). No promise is made
   * here: after the commit point this runs once per chunk, and the caller's
   * own promise is the only one the engine adds. An event the provider
   * already holds ({@link nextReady}) is told before this returns.
   */
  read(sink: ReadSink): void {
    if (this.#stopped !== undefined) {
      sink.failure(this.#stopped)
      return
    }
    this.#sink = sink
    const iterator = this.#iterator as AsyncIterator<ProviderStreamEvent>
    let ready: IteratorResult<ProviderStreamEvent> | undefined
    try {
      if (this.#ready) ready = (iterator as ReadyIterator)[nextReady]()
      if (ready === undefined) iterator.next().then(this.#onRead, this.#onReadFailure)
    } catch (thrown) {
      this.#onReadFailure(thrown)
      return
    }
    if (ready !== undefined) this.#onRead(ready)
  }

  /**
   * Ends the attempt with `reason`: closes the connection (the context's
   * abort, then the iterator's `return()`), rejects a pending read, clears
   * the timer. Idempotent.
   */
  stop(reason: UnderstudyError): void {
    if (this.#stopped !== undefined) return
    this.#stopped = reason
    this.#disarm()
    this.#waiting?.()
    this.#context?.abort(reason)
    const sink = this.#sink
    this.#sink = undefined
    sink?.failure(reason)
    const iterator = this.#iterator
    if (iterator?.return === undefined) return
    try {
      // Not awaited: a generator queues `return()` behind a pending `next()`,
      // which the abort above settles. Its outcome no longer matters.
      Promise.resolve(iterator.return()).then(undefined, ignore)
    } catch {
      // A `return()` that throws has nothing left to close.
    }
  }

  /**
   * Reads to the end of the body after the finish, so the connection goes
   * back to the pool, then ends the attempt. What follows a finish is not
   * content; a provider that sends on and on is stopped.
   */
  async drain(): Promise<void> {
    if (this.#stopped !== undefined) return
    try {
      for (let reads = 0; reads < maxReadsAfterFinish; reads++) {
        if ((await this.next()).done === true) {
          this.#finish()
          return
        }
      }
    } catch {
      // The answer is complete; a failure after its finish changes nothing.
    }
    this.stop(new UnderstudyError({ kind: 'unknown', message: 'read past the finish' }))
  }

  /** Ends the attempt after a clean end of its stream: clears the timer, keeps the connection. */
  #finish(): void {
    if (this.#stopped !== undefined) return
    this.#stopped = finished
    this.#disarm()
  }

  readonly #onRead = (result: unknown): void => {
    const sink = this.#sink
    if (sink === undefined) return
    if (!isIteratorResult(result)) {
      this.#failRead(
        new UnderstudyError({
          kind: 'unknown',
          message: `${this.entry.target} yielded a value that is not an iterator result`,
          ...this.#origin,
        }),
      )
      return
    }
    this.#sink = undefined
    if (this.#tracksIdle && result.done !== true && isContent(result.value)) {
      this.#lastContent = this.#settings.clock.now()
    }
    sink.result(result)
  }

  readonly #onReadFailure = (thrown: unknown): void => {
    if (this.#sink === undefined) return
    this.#failRead(
      toUnderstudyError(
        thrown ?? new Error('rejected with nothing'),
        this.#origin,
        this.#settings.secrets,
      ),
    )
  }

  /** A failed read ends the attempt: its timer goes, its connection closes, the read rejects. */
  #failRead(error: UnderstudyError): void {
    const sink = this.#sink
    this.#sink = undefined
    this.stop(error)
    sink?.failure(error)
  }

  /** Waits `ms` on the clock; `false` when stopped first. */
  #pause(ms: number): Promise<boolean> {
    const { clock } = this.#settings
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => {
        this.#waiting = undefined
        resolve(true)
      }, ms)
      // Through a local: a function literal assigned straight to a property
      // lands in old space until V8 optimizes this code (see CallStream).
      const cancel = (): void => {
        this.#waiting = undefined
        clock.clearTimeout(timer)
        resolve(false)
      }
      this.#waiting = cancel
    })
  }

  #failed(): FirstRead {
    return { type: 'error', error: this.#stopped as UnderstudyError }
  }

  #error(kind: 'incomplete' | 'empty', message: string): FirstRead {
    const error = new UnderstudyError({ kind, message, ...this.#origin })
    this.stop(error)
    return { type: 'error', error }
  }

  #idleDue(): number {
    return Math.min(this.#lastContent + this.#settings.idleTimeoutMs, this.#settings.deadline)
  }

  #arm(due: number): void {
    this.#disarm()
    this.#due = due
    if (!Number.isFinite(due)) return
    const { clock } = this.#settings
    this.#timer = clock.setTimeout(() => this.#expire(), Math.max(0, due - clock.now()))
  }

  #disarm(): void {
    if (this.#timer === undefined) return
    this.#settings.clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #expire(): void {
    this.#timer = undefined
    const now = this.#settings.clock.now()
    if (this.#committed) {
      // Content since the timer was set moves the idle limit on: wait out the rest.
      const due = this.#idleDue()
      if (now < due) {
        this.#arm(due)
        return
      }
    }
    this.stop(this.#expiryError(now))
  }

  #expiryError(now: number): UnderstudyError {
    const settings = this.#settings
    if (now >= settings.deadline) return deadlineError(settings.timeoutMs, this.#origin)
    const { target } = this.entry
    if (this.#committed) {
      return new UnderstudyError({
        kind: 'timeout',
        message: `${target} sent nothing for ${settings.idleTimeoutMs} ms (idleTimeoutMs)`,
        ...this.#origin,
      })
    }
    const waited = this.#due - this.started
    const message =
      waited === settings.firstTokenTimeoutMs
        ? `${target} sent no content within ${waited} ms (firstTokenTimeoutMs)`
        : `${target} did not answer within its attempt timeout of ${waited} ms`
    return new UnderstudyError({ kind: 'timeout', message, ...this.#origin })
  }
}

/** Events a provider may send after its finish before its body ends; past that, the read stops. */
const maxReadsAfterFinish = 8

/** The reason of an attempt that ended cleanly: never shown to anyone. */
const finished = new UnderstudyError({ kind: 'unknown', message: 'the attempt has finished' })

function ignore(): void {}

function isIteratorResult(value: unknown): value is IteratorResult<ProviderStreamEvent> {
  if (typeof value !== 'object' || value === null) return false
  const { done, value: event } = value as { done?: unknown; value?: unknown }
  if (done === true) return true
  return (
    typeof event === 'object' && event !== null && typeof Reflect.get(event, 'type') === 'string'
  )
}
