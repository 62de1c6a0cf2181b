import type { PlanEntry } from './build-plan.js'
import type { ChatRequest } from './chat-request.js'

/**
 * The request one attempt hands its provider: the caller's request with the
 * target's model, `params` and `unset` applied, as a fresh value. Every
 * object, array and byte buffer is copied, so a provider that rewrites its
 * input reaches neither the caller's request nor the next attempt. Strings
 * are shared: they cannot be changed. The cost is one pass over the
 * request's containers, not its bytes (see the core benchmark).
 */
export function buildAttemptRequest(request: ChatRequest, entry: PlanEntry): ChatRequest {
  const copy = copyPlain(request) as Record<string, unknown>
  copy.model = entry.model
  if (entry.params !== undefined) {
    for (const [name, value] of Object.entries(entry.params)) {
      if (value !== undefined) copy[name] = copyPlain(value)
    }
  }
  if (entry.unset !== undefined) {
    for (const name of entry.unset) delete copy[name]
  }
  return copy as unknown as ChatRequest
}

/** A copy of every array, plain object and byte buffer in `value`; anything else as it is. */
export function copyPlain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const length = value.length
    const out = new Array<unknown>(length)
    for (let i = 0; i < length; i++) out[i] = copyPlain(value[i])
    return out
  }
  if (value instanceof Uint8Array) return value.slice()
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return value
  const out: Record<string, unknown> = {}
  for (const key in value) {
    out[key] = copyPlain((value as Record<string, unknown>)[key])
  }
  return out
}
