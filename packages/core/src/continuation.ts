import type { ChatRequest, Message } from './chat-request.js'

/**
 * The request that asks a target to continue an interrupted answer: the
 * caller's request with `delivered` as the assistant's last message, which a
 * provider with `assistantPrefix` continues rather than answers. When the
 * caller's own last message is already an assistant prefix, `delivered`
 * extends it. The caller's request is not written.
 */
export function continuationRequest(request: ChatRequest, delivered: string): ChatRequest {
  const messages = request.messages.slice()
  const last = messages[messages.length - 1]
  if (last?.role === 'assistant' && (last.toolCalls?.length ?? 0) === 0) {
    messages[messages.length - 1] = { role: 'assistant', content: last.content + delivered }
  } else {
    messages.push({ role: 'assistant', content: delivered } satisfies Message)
  }
  return { ...request, messages }
}
