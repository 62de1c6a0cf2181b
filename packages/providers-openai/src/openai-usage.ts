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

/**
 * Tells, fast, whether `usage` is written plainly: nothing, or counts that
 * are finite numbers (or nothing) and details that are objects (or
 * nothing). `true` means {@link openAIUsageSchema} takes it unchanged, so it
 * may be read without the schema; `false` means "let the schema decide".
 */
export function isPlainUsage(usage: unknown): boolean {
  if (usage === undefined || usage === null) return true
  if (!isRecord(usage)) return false
  if (!isCount(usage.prompt_tokens) || !isCount(usage.completion_tokens)) return false
  if (!isCount(usage.total_tokens)) return false
  const prompt = usage.prompt_tokens_details
  if (prompt !== undefined && prompt !== null) {
    if (!isRecord(prompt) || !isCount(prompt.cached_tokens)) return false
  }
  const completion = usage.completion_tokens_details
  if (completion !== undefined && completion !== null) {
    if (!isRecord(completion) || !isCount(completion.reasoning_tokens)) return false
  }
  return true
}

/** A count as the schema takes it unchanged: a finite number, or none. */
function isCount(value: unknown): boolean {
  return value === undefined || value === null || Number.isFinite(value)
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
