import type { PlanEntry } from './build-plan.js'
import type { ToolCallDeltaEvent } from './stream-event.js'
import { type Attempt, type ErrorKind, UnderstudyError } from './errors.js'
import type { PartialBuilder } from './partial-output.js'
import type { ProviderStreamEvent, StreamEvent } from './stream-event.js'

/** Kinds of failure after the commit point that continuation may mend: not the caller's own. */
export function isInterruption(kind: ErrorKind): boolean {
  return kind !== 'aborted' && kind !== 'deadline'
}

/** What ended a stream after its commit point, and what it had delivered. */
export interface Interruption {
  /** The target that was streaming. */
  readonly entry: PlanEntry
  /** The failure that ends the stream now. */
  readonly error: UnderstudyError
  /** The first interruption, when a continuation was tried: the one the message tells of. */
  readonly first: UnderstudyError | undefined
  readonly partial: PartialBuilder
  readonly attempts: readonly Attempt[]
  /** Said after the first failure's message: why no continuation took over. */
  readonly suffix: string
}

/**
 * The error of a stream that failed after its commit point, carrying
 * exactly what it delivered: `aborted` or `deadline` when the caller's
 * signal or timeout ended it, `stream_interrupted` (the failure as `cause`)
 * for anything else.
 */
export function interruptedError(interruption: Interruption): UnderstudyError {
  const { entry, error, suffix } = interruption
  const partial = interruption.partial.snapshot({})
  const first = interruption.first ?? error
  const attempts = Object.freeze(interruption.attempts.slice())
  const delivered = describeDelivered(partial.text.length)
  const origin = { provider: entry.provider.id, model: entry.model }
  if (!isInterruption(error.kind)) {
    const message = `${error.message} after ${delivered}`
    return new UnderstudyError({
      kind: error.kind,
      message,
      ...origin,
      attempts,
      partial,
      cause: error.cause,
    })
  }
  const from = first === error ? entry.target : 'its target'
  return new UnderstudyError({
    kind: 'stream_interrupted',
    message: `The stream from ${from} was interrupted after ${delivered}: ${first.message}${suffix}`,
    ...origin,
    attempts,
    partial,
    cause: first,
  })
}

function describeDelivered(characters: number): string {
  return `${characters} character${characters === 1 ? '' : 's'}`
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * A content event as the caller gets it: a fresh object, so a provider that
 * reuses its event objects cannot make two callers share one.
 */
export function copyEvent(event: ProviderStreamEvent): StreamEvent {
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
