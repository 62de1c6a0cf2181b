import {
  type Clock,
  type ReasoningEvent,
  type TextEvent,
  type ToolCallDeltaEvent,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import type { MockFailure, MockStep, MockStreamStep } from './mock-step.js'

/**
 * Everything one call of a mock provider needs to play its step, through
 * `complete()` (play-complete.ts) or `stream()` (mock-stream.ts).
 */
export interface MockPlay {
  readonly id: string
  readonly model: string
  /** The call as recorded; a stream marks it when its consumer returns early. */
  readonly call: { returnedEarly: boolean }
  readonly step: MockStep
  readonly signal: AbortSignal
  readonly clock: Clock
}

/** A chunk as played: an event and the wait before it. */
export interface TimedEvent {
  readonly event: TextEvent | ReasoningEvent | ToolCallDeltaEvent
  readonly delayMs: number
}

/** The usage of an answer whose step sets none. */
export const defaultUsage: Usage = Object.freeze({
  inputTokens: 1,
  outputTokens: 1,
  totalTokens: 2,
})

/** The step's chunks as events, the step's own delay added to the first. */
export function chunksOf(step: MockStreamStep): TimedEvent[] {
  return step.stream.map((chunk, index) => {
    const first = index === 0 ? (step.delayMs ?? 0) : 0
    if (typeof chunk === 'string') {
      return { event: { type: 'text', text: chunk }, delayMs: first }
    }
    const { delayMs = 0, ...event } = chunk
    return { event, delayMs: first + delayMs }
  })
}

/** The typed error a scripted failure throws: its kind, status and Retry-After, as a provider classifies them. */
export function failureOf(failure: MockFailure, play: MockPlay): UnderstudyError {
  const { id, model } = play
  return new UnderstudyError({
    kind: failure.fail,
    message: failure.message ?? `${id}/${model} failed: ${failure.fail}`,
    provider: id,
    model,
    status: failure.status,
    retryAfterMs: failure.retryAfterMs,
  })
}

/** The error of a call whose signal aborted, with the signal's reason as its cause. */
export function abortedOf(play: MockPlay): UnderstudyError {
  return new UnderstudyError({
    kind: 'aborted',
    message: `${play.id}/${play.model} was aborted`,
    provider: play.id,
    model: play.model,
    cause: play.signal.reason,
  })
}
