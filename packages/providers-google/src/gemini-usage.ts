import type { Usage } from '@understudy/core'

/**
 * Core's {@link Usage} of a Gemini `usageMetadata`: `promptTokenCount` →
 * `inputTokens` (it includes the cached part, as OpenAI's does),
 * `candidatesTokenCount + thoughtsTokenCount` → `outputTokens` (billed as
 * output, and counted in OpenAI's completion tokens too, so a caller sees
 * the same sum whichever vendor answered), `thoughtsTokenCount` →
 * `reasoningTokens`, `cachedContentTokenCount` → `cachedInputTokens`,
 * `totalTokenCount` → `totalTokens`. A count that is not a number stays
 * absent; `{}` for no usage at all.
 */
export function toUsage(metadata: unknown): Usage {
  if (typeof metadata !== 'object' || metadata === null) return {}
  const prompt = countOf(metadata, 'promptTokenCount')
  const candidates = countOf(metadata, 'candidatesTokenCount')
  const thoughts = countOf(metadata, 'thoughtsTokenCount')
  const total = countOf(metadata, 'totalTokenCount')
  const cached = countOf(metadata, 'cachedContentTokenCount')
  const usage: { -readonly [K in keyof Usage]: Usage[K] } = {}
  if (prompt !== undefined) usage.inputTokens = prompt
  if (candidates !== undefined || thoughts !== undefined) {
    usage.outputTokens = (candidates ?? 0) + (thoughts ?? 0)
  }
  if (total !== undefined) usage.totalTokens = total
  if (cached !== undefined) usage.cachedInputTokens = cached
  if (thoughts !== undefined) usage.reasoningTokens = thoughts
  return usage
}

function countOf(metadata: object, name: string): number | undefined {
  const value: unknown = Reflect.get(metadata, name)
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
