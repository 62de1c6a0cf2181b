import type { LanguageModelV3Usage } from '@ai-sdk/provider'
import type { Usage } from '@understudy/core'

/**
 * Understudy's usage as an AI SDK model reports it. Understudy's
 * `inputTokens` counts every input token, cached or not (as OpenAI's
 * `prompt_tokens` does); the AI SDK splits off what the cache did not serve.
 */
export function toAISDKUsage(usage: Usage): LanguageModelV3Usage {
  const input = usage.inputTokens
  const cacheRead = usage.cachedInputTokens
  const cacheWrite = usage.cacheWriteInputTokens
  const output = usage.outputTokens
  const reasoning = usage.reasoningTokens
  return {
    inputTokens: {
      total: input,
      noCache: input === undefined ? undefined : input - (cacheRead ?? 0) - (cacheWrite ?? 0),
      cacheRead,
      cacheWrite,
    },
    outputTokens: {
      total: output,
      text: output === undefined ? undefined : output - (reasoning ?? 0),
      reasoning,
    },
  }
}

/** An AI SDK model's usage as Understudy's: only the counts it reported. */
export function fromAISDKUsage(usage: LanguageModelV3Usage | undefined): Usage {
  if (usage === undefined) return {}
  const input = usage.inputTokens.total
  const output = usage.outputTokens.total
  const counts: Record<keyof Usage, number | undefined> = {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input !== undefined && output !== undefined ? input + output : undefined,
    cachedInputTokens: usage.inputTokens.cacheRead,
    cacheWriteInputTokens: usage.inputTokens.cacheWrite,
    reasoningTokens: usage.outputTokens.reasoning,
  }
  const result: { -readonly [K in keyof Usage]: number } = {}
  for (const [name, count] of Object.entries(counts)) {
    if (count !== undefined) result[name as keyof Usage] = count
  }
  return result
}
