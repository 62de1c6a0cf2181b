import type { JsonValue, ProviderState } from './chat-request.js'
import { hashKey } from './hash-key.js'

/** Who wrote an assistant turn: the provider, model, base URL and key an attempt used. */
export interface StateOriginParts {
  readonly provider: string
  readonly model: string
  /** The base URL the request went to, as the provider resolved it. */
  readonly baseURL: string
  /** The key the request carried; `undefined` for none. */
  readonly apiKey: string | undefined
}

/**
 * The `origin` of a {@link ProviderState}: the provider and model as they
 * are, the base URL and key only as a hash, because the origin travels in
 * the caller's history and histories get logged.
 */
export function stateOrigin(parts: StateOriginParts): string {
  const where = hashKey(`${parts.baseURL}\u0000${parts.apiKey ?? ''}`)
  return `${parts.provider}/${parts.model}@${where}`
}

/**
 * What a provider may send back of an assistant turn's state: its `data`
 * when the turn was written by this same origin, else `undefined`. A
 * signature replayed to another model, URL or key is a 400 that would stop
 * a chain, so state from anywhere else is dropped, never sent.
 */
export function replayableState(
  state: ProviderState | undefined,
  origin: string,
): JsonValue | undefined {
  return state !== undefined && state.origin === origin ? state.data : undefined
}
