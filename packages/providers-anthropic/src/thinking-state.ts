import { type JsonValue, type ProviderState, replayableState, stateOrigin } from '@understudy/core'
import type { AttemptTarget } from '@understudy/provider-kit'

/**
 * A thinking block as the Messages API returns it and wants it back on the
 * next turn: signed reasoning, or reasoning the API redacted (opaque `data`).
 */
export type ThinkingBlock =
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature: string }
  | { readonly type: 'redacted_thinking'; readonly data: string }

/** The provider id this package writes into `providerState`. */
export const anthropicId = 'anthropic'

/** The origin of state an attempt to `target` writes, and the only one it sends back. */
export function originOf(target: AttemptTarget): string {
  return stateOrigin({
    provider: anthropicId,
    model: target.model,
    baseURL: target.baseURL,
    apiKey: target.apiKey,
  })
}

/**
 * The `providerState` of an assistant turn whose thinking blocks are
 * `blocks`: `{ provider: 'anthropic', origin, data: { thinking: blocks } }`,
 * or `undefined` when the turn had none (nothing to send back). Without a
 * `target` (a response parsed outside a provider) there is no origin to
 * name, so no state either.
 */
export function thinkingState(
  blocks: readonly ThinkingBlock[],
  target: AttemptTarget | undefined,
): ProviderState | undefined {
  if (blocks.length === 0 || target === undefined) return undefined
  const thinking: JsonValue[] = blocks.map((block) =>
    block.type === 'thinking'
      ? { type: 'thinking', thinking: block.thinking, signature: block.signature }
      : { type: 'redacted_thinking', data: block.data },
  )
  return { provider: anthropicId, origin: originOf(target), data: { thinking } }
}

/**
 * The thinking blocks of an assistant turn to send back with it: those of
 * its `providerState` when `origin` wrote it (core's `replayableState`),
 * else none — a signature replayed to another model, URL or key is a 400.
 * Data of another shape (written by another version of this package, or
 * edited) is sent as far as it is well-formed blocks, and no further.
 */
export function replayableThinking(
  state: ProviderState | undefined,
  origin: string,
): readonly ThinkingBlock[] {
  const data = replayableState(state, origin)
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return []
  const list = (data as { readonly [key: string]: JsonValue }).thinking
  if (!Array.isArray(list)) return []
  const blocks: ThinkingBlock[] = []
  for (const item of list as readonly JsonValue[]) {
    const block = toThinkingBlock(item)
    if (block !== undefined) blocks.push(block)
  }
  return blocks
}

function toThinkingBlock(item: JsonValue): ThinkingBlock | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
  const fields = item as { readonly [key: string]: JsonValue }
  if (
    fields.type === 'thinking' &&
    typeof fields.thinking === 'string' &&
    typeof fields.signature === 'string'
  ) {
    return { type: 'thinking', thinking: fields.thinking, signature: fields.signature }
  }
  if (fields.type === 'redacted_thinking' && typeof fields.data === 'string') {
    return { type: 'redacted_thinking', data: fields.data }
  }
  return undefined
}
