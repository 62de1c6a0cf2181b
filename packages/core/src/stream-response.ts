import { AwaitedPromise } from './awaited-promise.js'
import { copyPlain } from './attempt-request.js'
import type { PlanEntry } from './build-plan.js'
import type { AssistantMessage, ProviderState } from './chat-request.js'
import type { ChatResponse, Usage } from './chat-response.js'
import type { Attempt, UnderstudyError } from './errors.js'
import type { PartialBuilder } from './partial-output.js'
import type { FinishEvent } from './stream-event.js'

/** How a stream's call ended: a response to build, or an error. */
export type StreamOutcome =
  | { readonly response: () => ChatResponse; readonly error?: undefined }
  | { readonly response?: undefined; readonly error: UnderstudyError }

/**
 * A stream's `response`: settled with the call's outcome only once someone
 * waits on it — at once if someone already does, else at the first wait. A
 * rejection nobody waits for is never made, so it cannot go unhandled, and
 * a response nobody asks for is never built.
 */
export class StreamResponse {
  readonly promise: AwaitedPromise<ChatResponse>
  #resolve!: (response: ChatResponse) => void
  #reject!: (error: UnderstudyError) => void
  #outcome: StreamOutcome | undefined
  #awaited = false
  #onAwait: (() => void) | undefined

  constructor() {
    this.promise = new AwaitedPromise<ChatResponse>(this.#keepResolvers)
    this.promise.onFirstAwait(this.#awaitedNow)
  }

  /** Called at the first wait, after the outcome is delivered if it is known. */
  set onAwait(hook: () => void) {
    this.#onAwait = hook
  }

  settle(outcome: StreamOutcome): void {
    this.#outcome = outcome
    if (this.#awaited) this.#deliver()
  }

  readonly #keepResolvers = (
    resolve: (response: ChatResponse) => void,
    reject: (error: UnderstudyError) => void,
  ): void => {
    this.#resolve = resolve
    this.#reject = reject
  }

  readonly #awaitedNow = (): void => {
    this.#awaited = true
    this.#deliver()
    this.#onAwait?.()
  }

  #deliver(): void {
    const outcome = this.#outcome
    if (outcome === undefined) return
    this.#outcome = undefined
    if (outcome.response !== undefined) this.#resolve(outcome.response())
    else this.#reject(outcome.error)
  }
}

/** The response of a stream that finished: what it delivered, where from, and the trace. */
export function buildStreamResponse(
  partial: PartialBuilder,
  entry: PlanEntry,
  finish: FinishEvent,
  usage: Usage,
  attempts: readonly Attempt[],
): ChatResponse {
  const text = partial.text()
  const toolCalls = partial.toolCalls()
  const reasoning = partial.reasoning()
  const message: Mutable<AssistantMessage> = { role: 'assistant', content: text }
  if (toolCalls.length > 0) message.toolCalls = toolCalls
  if (finish.providerState !== undefined) {
    message.providerState = copyPlain(finish.providerState) as ProviderState
  }
  // Field by field rather than spreads: V8 builds such a literal on a slow path.
  const response: Mutable<ChatResponse> = {
    text,
    message: Object.freeze(message),
    toolCalls,
    finishReason: finish.finishReason,
    usage,
    provider: entry.provider.id,
    model: entry.model,
    target: entry.target,
    attempts,
  }
  if (reasoning !== undefined) response.reasoning = reasoning
  return Object.freeze(response)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
