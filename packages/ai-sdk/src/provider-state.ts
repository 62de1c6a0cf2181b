import type { SharedV3ProviderMetadata, SharedV3ProviderOptions } from '@ai-sdk/provider'
import type { JsonValue, ProviderState } from '@understudy/core'

/**
 * An answer's `providerState` (Anthropic's signed thinking, Gemini's thought
 * signatures) as content metadata: the AI SDK copies a content part's
 * `providerMetadata` into the next step's prompt as that part's
 * `providerOptions`, so a tool loop in `generateText` hands the state back to
 * the provider that wrote it, as core's history does.
 */
export function providerStateMetadata(
  state: ProviderState | undefined,
): SharedV3ProviderMetadata | undefined {
  if (state === undefined) return undefined
  return {
    understudy: {
      providerState: { provider: state.provider, origin: state.origin, data: state.data },
    },
  }
}

/** The `providerState` an assistant message's parts carry back, if one of them does. */
export function readProviderState(
  parts: readonly { readonly providerOptions?: SharedV3ProviderOptions | undefined }[],
): ProviderState | undefined {
  for (const part of parts) {
    const state: unknown = part.providerOptions?.understudy?.providerState
    if (typeof state !== 'object' || state === null) continue
    const provider: unknown = Reflect.get(state, 'provider')
    const origin: unknown = Reflect.get(state, 'origin')
    const data: unknown = Reflect.get(state, 'data')
    if (typeof provider === 'string' && typeof origin === 'string' && data !== undefined) {
      // JSON by construction: it went out as JSON metadata and comes back as JSON options.
      return { provider, origin, data: data as JsonValue }
    }
  }
  return undefined
}
