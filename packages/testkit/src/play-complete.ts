import {
  type FinishReason,
  type ProviderResponse,
  type ToolCall,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import { abortedOf, chunksOf, defaultUsage, failureOf, type MockPlay } from './mock-play.js'

/**
 * Plays a call's step through `complete()`: waits its delay on the clock,
 * then answers, fails or throws as the step says. A stream step plays its
 * chunks (delays included) and answers with what they add up to, or fails
 * as the stream would; a hang waits for the abort.
 */
export async function playComplete(play: MockPlay): Promise<ProviderResponse> {
  const { step } = play
  if ('hang' in step) {
    await wait(Infinity, play)
    throw new Error('unreachable: a hang ends only by abort')
  }
  if (!('stream' in step)) await wait(step.delayMs ?? 0, play)
  if ('fail' in step) throw failureOf(step, play)
  if ('failOnRead' in step) throw failureOf({ ...step, fail: step.failOnRead }, play)
  if ('throws' in step) throw new Error(step.throws)
  if ('ok' in step) {
    const toolCalls = (step.toolCalls ?? []).map(
      (call, index): ToolCall => ({
        id: call.id ?? `call_${index}`,
        name: call.name,
        arguments: call.arguments,
      }),
    )
    return responseOf({
      text: step.ok,
      toolCalls,
      reasoning: step.reasoning,
      finishReason: step.finishReason,
      usage: step.usage,
      status: step.status,
      requestId: step.requestId,
    })
  }
  // A stream step: play its chunks, then answer with what they add up to.
  let text = ''
  let reasoning: string | undefined
  const calls: { id: string | undefined; name: string | undefined; arguments: string }[] = []
  const chunks = chunksOf(step)
  if (chunks.length === 0) await wait(step.delayMs ?? 0, play)
  for (const { event, delayMs } of chunks) {
    await wait(delayMs, play)
    if (event.type === 'text') text += event.text
    else if (event.type === 'reasoning') reasoning = (reasoning ?? '') + event.text
    else {
      const call = calls[event.index] ?? { id: undefined, name: undefined, arguments: '' }
      calls[event.index] = call
      call.id ??= event.id
      call.name ??= event.name
      call.arguments += event.argumentsDelta
    }
  }
  await wait(0, play)
  const end = step.end ?? 'finish'
  if (end === 'no-terminal') throw incompleteOf(play)
  if (end !== 'finish') throw failureOf(end, play)
  const toolCalls = calls.flatMap((call, index): ToolCall[] =>
    call === undefined
      ? []
      : [{ id: call.id ?? `call_${index}`, name: call.name ?? '', arguments: call.arguments }],
  )
  return responseOf({
    text,
    toolCalls,
    reasoning,
    finishReason: step.finishReason,
    usage: step.usage,
    status: undefined,
    requestId: undefined,
  })
}

function responseOf(parts: {
  readonly text: string
  readonly toolCalls: readonly ToolCall[]
  readonly reasoning: string | undefined
  readonly finishReason: FinishReason | undefined
  readonly usage: Usage | undefined
  readonly status: number | undefined
  readonly requestId: string | undefined
}): ProviderResponse {
  const { text, toolCalls } = parts
  return {
    text,
    message:
      toolCalls.length === 0
        ? { role: 'assistant', content: text }
        : { role: 'assistant', content: text, toolCalls: toolCalls.map((call) => ({ ...call })) },
    toolCalls,
    ...(parts.reasoning === undefined ? {} : { reasoning: parts.reasoning }),
    finishReason: parts.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: { ...(parts.usage ?? defaultUsage) },
    status: parts.status ?? 200,
    ...(parts.requestId === undefined ? {} : { requestId: parts.requestId }),
  }
}

/**
 * Waits `ms` on the play's clock (`Infinity`: until abort); rejects with
 * kind `aborted` at once when the signal aborts, clearing its timer.
 */
function wait(ms: number, play: MockPlay): Promise<void> {
  const { signal, clock } = play
  if (signal.aborted) return Promise.reject(abortedOf(play))
  if (ms === 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer)
      reject(abortedOf(play))
    }
    const timer =
      ms === Infinity
        ? undefined
        : clock.setTimeout(() => {
            signal.removeEventListener('abort', onAbort)
            resolve()
          }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The error of a stream step that ends without its finish event. */
function incompleteOf(play: MockPlay): UnderstudyError {
  return new UnderstudyError({
    kind: 'incomplete',
    message: `${play.id}/${play.model} ended its stream without a finish event`,
    provider: play.id,
    model: play.model,
  })
}
