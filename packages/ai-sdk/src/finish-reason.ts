import type { LanguageModelV3FinishReason } from '@ai-sdk/provider'
import type { FinishReason } from '@understudy/core'

/** Understudy's finish reasons in the AI SDK's words: the one table both directions read. */
const unifiedReasons = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  content_filter: 'content-filter',
  other: 'other',
} as const satisfies Record<FinishReason, LanguageModelV3FinishReason['unified']>

/** A finish reason as an AI SDK model reports it; `raw` keeps Understudy's own name. */
export function toAISDKFinishReason(reason: FinishReason): LanguageModelV3FinishReason {
  return { unified: unifiedReasons[reason], raw: reason }
}

/**
 * An AI SDK model's unified finish reason as Understudy's. `error` and V4's
 * `interrupted` have no name of their own here, so they are `other`.
 */
export function fromAISDKFinishReason(unified: string): FinishReason {
  for (const [reason, name] of Object.entries(unifiedReasons)) {
    if (name === unified) return reason as FinishReason
  }
  return 'other'
}
