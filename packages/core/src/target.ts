import type { ChatParamName, ChatParams } from './chat-request.js'

/** A target with its own settings. Every field but `model` is optional. */
export interface TargetObject {
  /** `"provider/model"`, split at the first slash: `"openrouter/meta-llama/llama-3"`. */
  readonly model: string
  /** This target's key; without it, its provider's configured key (never another target's). */
  readonly apiKey?: string
  /** Where this target's provider sends the request instead of its configured URL. */
  readonly baseURL?: string
  /** Headers sent to this target only. */
  readonly headers?: Readonly<Record<string, string>>
  /** Request fields this target gets instead of the request's. */
  readonly params?: ChatParams
  /** Request fields this target must not receive. */
  readonly unset?: readonly ChatParamName[]
  /** Retries of this target, instead of the call's. `0` means one attempt. */
  readonly retries?: number
  /** The longest one attempt of this target may take, in ms, instead of the call's. */
  readonly attemptTimeoutMs?: number
}

/** One entry of a chain: `"provider/model"` or a {@link TargetObject}. */
export type Target = string | TargetObject
