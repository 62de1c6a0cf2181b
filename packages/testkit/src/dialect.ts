import type { AnswerReply, ErrorReply } from './reply.js'
import type { SseEvent } from './sse.js'

/** What a dialect reads from a request: the model it names and whether it asks to stream. */
export interface DialectRoute {
  readonly model: string | undefined
  readonly stream: boolean
}

/** A request as a dialect sees it. */
export interface DialectRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly body: unknown
}

/** A streamed answer: its events, the last `terminalEvents` of which are the terminal signal. */
export interface DialectStream {
  readonly events: readonly SseEvent[]
  readonly terminalEvents: number
}

/**
 * One provider's wire format, as a fake server speaks it. Each is written
 * from the recorded real responses in the repository's `fixtures/`.
 */
export interface Dialect {
  /** `"openai"`, `"anthropic"`, `"gemini"`. */
  readonly name: string
  /** The route of a request, or `undefined` when its path is none of this API's (a 404). */
  route(request: DialectRequest): DialectRoute | undefined
  /** The JSON body of a successful answer. */
  answer(reply: AnswerReply, route: DialectRoute): unknown
  /** The events of a successful streamed answer. */
  stream(reply: AnswerReply, route: DialectRoute): DialectStream
  /**
   * The provider's real error body for an HTTP status. `reply` is the
   * scripted error, for bodies that echo it (Gemini's 429 carries its retry
   * delay in the body).
   */
  errorBody(status: number, route: DialectRoute | undefined, reply?: ErrorReply): unknown
  /** The provider's in-band error, sent inside a 200 stream. */
  inBandError(): SseEvent
  /** What ends each line of this provider's SSE events. @default '\n' */
  readonly sseLineEnding?: '\n' | '\r\n'
  /** Headers the provider sends on every response (request ids and the like). */
  responseHeaders(index: number): Readonly<Record<string, string>>
}
