import type { AnswerReply, ErrorReply } from './reply.js'
import type { SseEvent } from './sse.js'

/** What a dialect reads from a request: the model it names and whether it asks to stream. */
export interface DialectRoute {
  readonly model: string | undefined
  readonly stream: boolean
  /**
   * How a stream is framed: SSE events, or — Gemini's
   * `:streamGenerateContent` without `?alt=sse` — one JSON array of the
   * events' data, sent as `application/json`. @default 'sse'
   */
  readonly streamFraming?: 'sse' | 'json-array'
}

/** A request as a dialect sees it. */
export interface DialectRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  /** Header names in lower case, repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** A streamed answer: its events, the last `terminalEvents` of which are the terminal signal. */
export interface DialectStream {
  readonly events: readonly SseEvent[]
  readonly terminalEvents: number
}

/**
 * One provider's wire format, as a fake server speaks it: which requests it
 * serves, and the bodies of its answers, streams and errors. The servers of
 * `startFakeOpenAI()`, `startFakeAnthropic()` and `startFakeGemini()` each
 * run a dialect written from recorded real responses; a vendor with a wire
 * format of its own writes one and hands it to `startFakeServer`, which then
 * scripts replies and injects every fault (drops, stalls, in-band errors, a
 * lost terminal signal) in that format.
 */
export interface Dialect {
  /** A name for messages: `"openai"`, `"anthropic"`, `"gemini"`. */
  readonly name: string
  /** The route of a request, or `undefined` when its path is none of this API's (a 404). */
  route(request: DialectRequest): DialectRoute | undefined
  /**
   * The error the real API answers to this request whatever the script
   * says (a parameter its version rejects, a thought signature it did not
   * issue), or `undefined` to serve the
   * script. Optional: most dialects refuse nothing.
   */
  reject?(request: DialectRequest, route: DialectRoute): ErrorReply | undefined
  /** The JSON body of a successful answer. */
  answer(reply: AnswerReply, route: DialectRoute): unknown
  /**
   * The events of a successful streamed answer, its terminal signal last
   * (`terminalEvents` of them): the `no-terminal` fault sends all but those,
   * `drop-mid-stream` and `stall` the first `afterEvents`.
   */
  stream(reply: AnswerReply, route: DialectRoute): DialectStream
  /**
   * The provider's real error body for an HTTP status. `reply` is the
   * scripted error, for bodies that echo it (Gemini's 429 carries its retry
   * delay in the body).
   */
  errorBody(status: number, route: DialectRoute | undefined, reply?: ErrorReply): unknown
  /** The provider's in-band error, sent inside a 200 stream (the `in-band-error` fault). */
  inBandError(): SseEvent
  /** What ends each line of this provider's SSE events. @default '\n' */
  readonly sseLineEnding?: '\n' | '\r\n'
  /** Headers the provider sends on every response (request ids and the like). */
  responseHeaders(index: number): Readonly<Record<string, string>>
}
