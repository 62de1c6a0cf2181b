import type { Usage } from '@understudy/core'

/** The `usage` fields of a message (or of a stream's `message_start` / `message_delta`) Understudy reads. */
export interface AnthropicUsage {
  readonly input_tokens?: number | null | undefined
  readonly output_tokens?: number | null | undefined
  readonly cache_creation_input_tokens?: number | null | undefined
  readonly cache_read_input_tokens?: number | null | undefined
}

/**
 * Core's {@link Usage} of an Anthropic `usage`. Anthropic counts the input
 * read from or written to the prompt cache apart from `input_tokens`;
 * `inputTokens` here is all three together, as OpenAI's `prompt_tokens`
 * counts its cached tokens, so the field means the same whichever vendor
 * answered. `cachedInputTokens` is `cache_read_input_tokens`,
 * `cacheWriteInputTokens` is `cache_creation_input_tokens`, and
 * `totalTokens` is input plus output. A count that is missing or not a
 * number is left out.
 */
export function toUsage(usage: AnthropicUsage | null | undefined): Usage {
  if (usage === null || usage === undefined) return {}
  const fresh = countOf(usage.input_tokens)
  const read = countOf(usage.cache_read_input_tokens)
  const written = countOf(usage.cache_creation_input_tokens)
  const output = countOf(usage.output_tokens)
  const result: { -readonly [K in keyof Usage]: Usage[K] } = {}
  if (fresh !== undefined || read !== undefined || written !== undefined) {
    result.inputTokens = (fresh ?? 0) + (read ?? 0) + (written ?? 0)
  }
  if (output !== undefined) result.outputTokens = output
  if (result.inputTokens !== undefined && output !== undefined) {
    result.totalTokens = result.inputTokens + output
  }
  if (read !== undefined) result.cachedInputTokens = read
  if (written !== undefined) result.cacheWriteInputTokens = written
  return result
}

/**
 * A stream's usage so far: `message_start` gives the input counts (and a
 * first output count), each `message_delta` the output count so far and,
 * on some versions, the input counts again. A later count wins; a count a
 * later event leaves out is kept.
 */
export function mergeUsage(
  earlier: AnthropicUsage | undefined,
  later: AnthropicUsage | null | undefined,
): AnthropicUsage | undefined {
  if (later === null || later === undefined) return earlier
  if (earlier === undefined) return later
  return {
    input_tokens: countOf(later.input_tokens) ?? earlier.input_tokens,
    output_tokens: countOf(later.output_tokens) ?? earlier.output_tokens,
    cache_creation_input_tokens:
      countOf(later.cache_creation_input_tokens) ?? earlier.cache_creation_input_tokens,
    cache_read_input_tokens:
      countOf(later.cache_read_input_tokens) ?? earlier.cache_read_input_tokens,
  }
}

function countOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}
