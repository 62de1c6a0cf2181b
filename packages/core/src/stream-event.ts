import type { ProviderState } from './chat-request.js'
import type { FinishReason, Usage } from './chat-response.js'

/** A piece of the answer's text. */
export interface TextEvent {
  readonly type: 'text'
  readonly text: string
}

/** A piece of the model's reasoning. */
export interface ReasoningEvent {
  readonly type: 'reasoning'
  readonly text: string
}

/** A piece of a tool call; the pieces with one `index` make one call. */
export interface ToolCallDeltaEvent {
  readonly type: 'tool-call-delta'
  readonly index: number
  readonly id?: string
  readonly name?: string
  readonly argumentsDelta: string
}

/** The end of the answer; always the last event of a stream that succeeds. */
export interface FinishEvent {
  readonly type: 'finish'
  readonly finishReason: FinishReason
  readonly usage: Usage
  /**
   * From a provider: what the finished answer's `message.providerState`
   * holds. The caller's stream never carries it; `response.message` does.
   */
  readonly providerState?: ProviderState
}

/** Which target won, sent once just before its first content. */
export interface StartEvent {
  readonly type: 'start'
  readonly target: string
  readonly provider: string
  readonly model: string
}

/** What a provider's stream yields for one attempt. */
export type ProviderStreamEvent = TextEvent | ReasoningEvent | ToolCallDeltaEvent | FinishEvent

/** What a caller's stream yields. */
export type StreamEvent = StartEvent | ProviderStreamEvent
