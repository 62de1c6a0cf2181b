import type { AssistantMessage, ToolCall } from './chat-request.js'
import type { Attempt } from './errors.js'

/**
 * Why the model stopped: `stop` (done), `length` (hit `maxTokens`),
 * `tool_calls`, `content_filter` (the provider filtered the answer), or
 * `other` for anything a provider reports that has no name here.
 */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other'

/** Token counts, as far as the provider reports them. */
export interface Usage {
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly totalTokens?: number
  /** Input tokens served from the provider's prompt cache. */
  readonly cachedInputTokens?: number
  /** Input tokens written to the provider's prompt cache (Anthropic bills them apart). */
  readonly cacheWriteInputTokens?: number
  /** Output tokens spent on reasoning. */
  readonly reasoningTokens?: number
}

/** What a provider returns for one successful attempt. */
export interface ProviderResponse {
  /** The answer's text; `''` when the model only called tools. */
  readonly text: string
  readonly message: AssistantMessage
  readonly toolCalls: readonly ToolCall[]
  /** The model's reasoning text, where the provider returns it. */
  readonly reasoning?: string
  readonly finishReason: FinishReason
  readonly usage: Usage
  /** The HTTP status of the answer. */
  readonly status?: number
  /** The upstream's request id. */
  readonly requestId?: string
}

/** The answer to a call: the winning attempt's response and the whole trace. */
export interface ChatResponse extends ProviderResponse {
  /** The provider that answered: `"openai"`. */
  readonly provider: string
  /** The model that answered, without the prefix: `"gpt-4o"`. */
  readonly model: string
  /** The target that answered: `"openai/gpt-4o"`. */
  readonly target: string
  /** Every attempt of the call, in order, the winning one last. */
  readonly attempts: readonly Attempt[]
}
