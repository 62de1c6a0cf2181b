import type { FinishReason } from '@understudy/core'

/** A tool call in a scripted answer. */
export interface ReplyToolCall {
  readonly id?: string
  readonly name: string
  /** The arguments as JSON text. */
  readonly arguments: string
}

/**
 * A successful answer, written in the server's dialect: JSON, or SSE when
 * the request asked to stream.
 */
export interface AnswerReply {
  readonly text?: string
  readonly toolCalls?: readonly ReplyToolCall[]
  readonly reasoning?: string
  /** @default 'stop', or 'tool_calls' when there are tool calls */
  readonly finishReason?: FinishReason
  /**
   * The vendor's own stop reason, verbatim, in place of the one
   * `finishReason` maps to: a reason no finish reason names (Anthropic's
   * `model_context_window_exceeded`, `stop_sequence`). Read by the Anthropic dialect.
   */
  readonly stopReason?: string
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number }
  /** How a stream splits `text`: these pieces, in order. @default words */
  readonly chunks?: readonly string[]
  /** Real ms between stream events. @default 0 */
  readonly chunkDelayMs?: number
}

/** An HTTP error with the dialect's real error body for its status (or `body`). */
export interface ErrorReply {
  readonly status: number
  /** The JSON body; by default the provider's own body for this status. */
  readonly body?: unknown
  /** The `retry-after` header, verbatim: `'2'`, `'1.5'`, an HTTP date. */
  readonly retryAfter?: string
  /** The `retry-after-ms` header. */
  readonly retryAfterMs?: number
}

/** What can go wrong on the wire, beyond an HTTP error. */
export type Fault =
  /** The connection is closed before any byte of the response. */
  | 'drop'
  /** Headers and half the body, then the connection is closed. */
  | 'drop-mid-body'
  /** A stream's first `afterEvents` events, then the connection is closed. */
  | 'drop-mid-stream'
  /** A 200 whose JSON body does not parse. */
  | 'malformed-json'
  /** A 200 stream whose events are not valid SSE/JSON. */
  | 'malformed-sse'
  /** A 200 with `content-type: text/html` and an HTML body. */
  | 'wrong-content-type'
  /** A 200 body of `sizeBytes` bytes. */
  | 'oversized'
  /** Headers never come; the request hangs until the client gives up. */
  | 'hang'
  /** A stream's first `afterEvents` events, then nothing, the connection left open. */
  | 'stall'
  /** A 200 stream that carries the dialect's in-band error event after `afterEvents` events. */
  | 'in-band-error'
  /** A stream that ends cleanly without its terminal signal. */
  | 'no-terminal'

/** A fault on the wire. */
export interface FaultReply {
  readonly fault: Fault
  /** For the stream faults: how many events go out first. @default 1 */
  readonly afterEvents?: number
  /** For `oversized`. @default 8 MiB */
  readonly sizeBytes?: number
}

/** Bytes served exactly as given: a recorded response, a fixture. */
export interface RawReply {
  readonly raw: {
    /** @default 200 */
    readonly status?: number
    readonly headers?: Readonly<Record<string, string>>
    /** The body, or the pieces of a stream each written after its delay. */
    readonly body: string | readonly { readonly data: string; readonly delayMs?: number }[]
  }
}

/** Settings any reply may add. */
export interface ReplyExtras {
  /** Real ms before the response headers go out (slow headers). */
  readonly headersDelayMs?: number
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>
}

/** What a fake server answers to one request. */
export type Reply = (AnswerReply | ErrorReply | FaultReply | RawReply) & ReplyExtras
