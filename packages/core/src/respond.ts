import { copyPlain } from './attempt-request.js'
import type { PlanEntry } from './build-plan.js'
import type { AssistantMessage, ToolCall } from './chat-request.js'
import type { ChatResponse, ProviderResponse, Usage } from './chat-response.js'
import type { Attempt } from './errors.js'

/** The call's response: the winning attempt's answer, where it came from, and the whole trace. */
export function respond(
  response: ProviderResponse,
  entry: PlanEntry,
  attempts: readonly Attempt[],
): ChatResponse {
  // Field by field, without conditional spreads: V8 builds such a literal
  // on a slow path. The containers are copied: a provider that hands every
  // call the same objects must not make two callers share them (rule 1).
  const out: Mutable<ChatResponse> = {
    text: response.text,
    message: copyPlain(response.message) as AssistantMessage,
    toolCalls: copyPlain(response.toolCalls) as readonly ToolCall[],
    finishReason: response.finishReason,
    usage: copyPlain(response.usage) as Usage,
    provider: entry.provider.id,
    model: entry.model,
    target: entry.target,
    attempts: Object.freeze(attempts.slice()),
  }
  if (response.reasoning !== undefined) out.reasoning = response.reasoning
  if (response.status !== undefined) out.status = response.status
  if (response.requestId !== undefined) out.requestId = response.requestId
  return Object.freeze(out)
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }
