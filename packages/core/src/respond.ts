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
  // Field by field rather than a spread: V8 builds this literal ~30x faster.
  // The containers are copied: a provider that hands every call the same
  // objects must not make two callers share them (rule 1).
  return Object.freeze({
    text: response.text,
    message: copyPlain(response.message) as AssistantMessage,
    toolCalls: copyPlain(response.toolCalls) as readonly ToolCall[],
    ...(response.reasoning !== undefined && { reasoning: response.reasoning }),
    finishReason: response.finishReason,
    usage: copyPlain(response.usage) as Usage,
    ...(response.status !== undefined && { status: response.status }),
    ...(response.requestId !== undefined && { requestId: response.requestId }),
    provider: entry.provider.id,
    model: entry.model,
    target: entry.target,
    attempts: Object.freeze(attempts.slice()),
  })
}
