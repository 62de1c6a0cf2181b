import type { PlanEntry } from './build-plan.js'
import type { AttemptStep, CallRun } from './call-run.js'
import { attemptRecord } from './call-trace.js'
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

/**
 * The step that asks the next target to continue the stream interrupted at
 * entry `interrupted`, as the policy moves on; targets whose provider takes
 * no assistant prefix are passed over, each recorded as skipped with kind
 * `unsupported`. `undefined` when no target is left.
 */
export function continuationStep<Filtered>(
  run: CallRun<Filtered>,
  interrupted: number,
): AttemptStep | undefined {
  let step = run.decideAfter(interrupted, 'stream_interrupted')
  while (step.type === 'attempt') {
    const entry = run.settings.plan.entries[step.entry] as PlanEntry
    if (entry.provider.assistantPrefix === true) return step
    run.recordSkipped(step)
    const message = `${entry.target} cannot continue a partial answer: its provider takes no assistant prefix`
    run.record(attemptRecord(entry, 'skipped', step.retry, 0, { kind: 'unsupported', message }))
    step = run.decideAfter(step.entry, 'unsupported')
  }
  return undefined
}
