import type { Usage } from '@understudy/core'
import { z } from 'zod'

/** A token count; a count a compatible server writes oddly is dropped, not fatal. */
const count = z.number().nullish().catch(undefined)

/**
 * The `usage` object of a chat completion or of a stream's usage chunk, as
 * loose as compatible servers need: every count optional, details optional,
 * extra fields (OpenRouter's `cost`) ignored.
 */
export const openAIUsageSchema: z.ZodType<OpenAIUsage | null | undefined> = z
  .object({
    prompt_tokens: count,
    completion_tokens: count,
    total_tokens: count,
    prompt_tokens_details: z.object({ cached_tokens: count }).nullish().catch(undefined),
    completion_tokens_details: z.object({ reasoning_tokens: count }).nullish().catch(undefined),
  })
  .nullish()
  .catch(undefined)

/** The `usage` fields Understudy reads. */
export interface OpenAIUsage {
  readonly prompt_tokens?: number | null | undefined
  readonly completion_tokens?: number | null | undefined
  readonly total_tokens?: number | null | undefined
  readonly prompt_tokens_details?:
    | { readonly cached_tokens?: number | null | undefined }
    | null
    | undefined
  readonly completion_tokens_details?:
    | { readonly reasoning_tokens?: number | null | undefined }
    | null
    | undefined
}

/**
 * Core's {@link Usage} of an OpenAI `usage`: prompt → input, completion →
 * output, `prompt_tokens_details.cached_tokens` → `cachedInputTokens`,
 * `completion_tokens_details.reasoning_tokens` → `reasoningTokens`. Counts
 * the server did not send stay absent; `{}` for no usage at all.
 */
export function toUsage(usage: OpenAIUsage | null | undefined): Usage {
  if (usage === null || usage === undefined) return {}
  const out: {
    inputTokens?: number
    outputTokens?: number
    totalTokens?: number
    cachedInputTokens?: number
    reasoningTokens?: number
  } = {}
  if (typeof usage.prompt_tokens === 'number') out.inputTokens = usage.prompt_tokens
  if (typeof usage.completion_tokens === 'number') out.outputTokens = usage.completion_tokens
  if (typeof usage.total_tokens === 'number') out.totalTokens = usage.total_tokens
  const cached = usage.prompt_tokens_details?.cached_tokens
  if (typeof cached === 'number') out.cachedInputTokens = cached
  const reasoning = usage.completion_tokens_details?.reasoning_tokens
  if (typeof reasoning === 'number') out.reasoningTokens = reasoning
  return out
}
