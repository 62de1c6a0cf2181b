import type {
  ErrorKind,
  FinishReason,
  ReasoningEvent,
  TextEvent,
  ToolCallDeltaEvent,
  Usage,
} from '@understudy/core'

/**
 * A typed failure: the attempt throws an `UnderstudyError` of kind `fail`
 * with this `status` and `retryAfterMs`, as a real provider does for an HTTP
 * error it has classified.
 */
export interface MockFailure {
  /** The error's `kind`. */
  readonly fail: ErrorKind
  /** The HTTP status the error carries. */
  readonly status?: number
  /** How long the upstream asked to wait, in ms. */
  readonly retryAfterMs?: number
  /** @default `"<id>/<model> failed: <kind>"` */
  readonly message?: string
}

/** A tool call in a scripted answer. */
export interface MockToolCall {
  /** @default `"call_<index>"` */
  readonly id?: string
  readonly name: string
  /** The arguments as JSON text. */
  readonly arguments: string
}

/**
 * Succeed with `ok` as the answer's text (`''` for an answer with tool
 * calls only). `stream()` plays it as reasoning, text, one delta per tool
 * call, then a finish event.
 */
export interface MockSucceedStep {
  readonly ok: string
  readonly toolCalls?: readonly MockToolCall[]
  readonly reasoning?: string
  /** @default `{ inputTokens: 1, outputTokens: 1, totalTokens: 2 }` */
  readonly usage?: Usage
  /**
   * `'content_filter'` makes the 200 a filtered answer, which the client
   * moves to its content-policy chain.
   * @default 'tool_calls' with tool calls, else 'stop'
   */
  readonly finishReason?: FinishReason
  /** @default 200 */
  readonly status?: number
  readonly requestId?: string
  /** Ms to wait on the clock before answering; the signal cuts the wait short. */
  readonly delayMs?: number
}

/**
 * Fail with a typed error ({@link MockFailure}). `stream()` throws it from
 * `stream()` itself (before any iterable exists) unless `delayMs` is set, in
 * which case the first read waits and then rejects.
 */
export interface MockFailStep extends MockFailure {
  /** Ms to wait on the clock before failing. */
  readonly delayMs?: number
}

/**
 * Throw a plain `Error` with this message: an untyped failure, which the
 * client classifies as kind `unknown`. In `stream()`, thrown as
 * {@link MockFailStep} is.
 */
export interface MockThrowStep {
  readonly throws: string
  /** Ms to wait on the clock before throwing. */
  readonly delayMs?: number
}

/**
 * Never answer: the attempt waits until its context signal aborts, then
 * rejects with kind `aborted` (`stream()`: the first read does).
 */
export interface MockHangStep {
  readonly hang: true
}

/** A piece of a scripted stream, optionally after `delayMs` on the clock. */
export type MockChunk =
  /** A text piece; `'Hel'` is `{ type: 'text', text: 'Hel' }`. */
  | string
  | ((TextEvent | ReasoningEvent | ToolCallDeltaEvent) & {
      /** Ms to wait on the clock before this chunk. */
      readonly delayMs?: number
    })

/**
 * Stream `stream`'s chunks, then end as `end` says. `complete()` plays the
 * same chunks (delays included) and answers with what they add up to, or
 * fails as the stream would.
 */
export interface MockStreamStep {
  readonly stream: readonly MockChunk[]
  /**
   * How the stream ends after its chunks: `'finish'` sends the finish event;
   * `'no-terminal'` ends without it (the client's kind `incomplete`); a
   * {@link MockFailure} makes the read after the last chunk reject with it
   * (a failure in the middle of a stream, after `stream.length` chunks).
   * @default 'finish'
   */
  readonly end?: 'finish' | 'no-terminal' | MockFailure
  /** @default 'tool_calls' when a chunk is a tool-call delta, else 'stop' */
  readonly finishReason?: FinishReason
  /** @default `{ inputTokens: 1, outputTokens: 1, totalTokens: 2 }` */
  readonly usage?: Usage
  /** Ms to wait on the clock before the first chunk (time to first token). */
  readonly delayMs?: number
}

/**
 * Fail lazily: `stream()` returns an iterable, and its first `next()`
 * rejects with this typed error (kind `failOnRead`), as an adapter that
 * sends its HTTP request on the first read does. `complete()` fails with it.
 */
export interface MockFailOnReadStep {
  readonly failOnRead: ErrorKind
  readonly status?: number
  readonly retryAfterMs?: number
  /** @default `"<id>/<model> failed: <kind>"` */
  readonly message?: string
  /** Ms to wait on the clock before the first read rejects. */
  readonly delayMs?: number
}

/**
 * What one attempt of a mock model does. Each step has exactly one of the
 * keys `ok`, `fail`, `throws`, `hang`, `stream`, `failOnRead`, which says
 * which step it is.
 */
export type MockStep =
  | MockSucceedStep
  | MockFailStep
  | MockThrowStep
  | MockHangStep
  | MockStreamStep
  | MockFailOnReadStep

/** Steps per model (without the provider prefix): the n-th call of a model plays its n-th step. */
export type MockScripts = Readonly<Record<string, readonly MockStep[]>>
