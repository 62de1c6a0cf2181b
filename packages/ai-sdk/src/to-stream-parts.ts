import type {
  LanguageModelV3StreamPart,
  SharedV3ProviderMetadata,
  SharedV3Warning,
} from '@ai-sdk/provider'
import {
  type ChatStream,
  isUnderstudyError,
  type StreamEvent,
  type UnderstudyError,
} from '@understudy/core'
import { toAISDKFinishReason } from './finish-reason.js'
import { providerStateMetadata } from './provider-state.js'
import { toAPICallError } from './to-api-call-error.js'
import { traceAttempt, traceOf } from './understudy-trace.js'
import { toAISDKUsage } from './usage.js'

/** What {@link toStreamParts} reads: a chain's stream, already past its commit point. */
export interface StreamPartsSource {
  readonly iterator: AsyncIterator<StreamEvent>
  /** The iterator's first result, read by `doStream` before it returned. */
  readonly first: IteratorResult<StreamEvent>
  readonly stream: ChatStream
  readonly warnings: SharedV3Warning[]
  /** The primary target, named in an error when no attempt is. */
  readonly primary: string
}

/** One tool call being streamed: its id, name and the arguments so far. */
interface OpenToolCall {
  readonly id: string
  readonly name: string
  arguments: string
}

/**
 * A chain's stream as the spec's stream parts. `stream-start` comes with the
 * winner's first content (core's `start` event), so `streamText` sees nothing
 * of a failed attempt; `text-*`, `reasoning-*` and `tool-input-*` follow the
 * events; the tool calls are completed (`tool-call`) at `finish`, whose
 * `providerMetadata.understudy` holds the call's trace.
 *
 * A failure after the commit point is one `error` part (an `APICallError`
 * with the partial output in `data`) and a `finish` whose reason is `error`:
 * the output already sent stays as it is, never spliced with another target's.
 * Cancelling the stream (the caller's abort, `streamText`'s own end) closes
 * the upstream at once.
 */
export function toStreamParts(
  source: StreamPartsSource,
): ReadableStream<LanguageModelV3StreamPart> {
  const { iterator, warnings } = source
  let pending: IteratorResult<StreamEvent> | undefined = source.first
  let ended = false
  let textId: string | undefined
  let reasoningId: string | undefined
  let blocks = 0
  let served: SharedV3ProviderMetadata | undefined
  const toolCalls = new Map<number, OpenToolCall>()

  const closeText = (parts: LanguageModelV3StreamPart[]): void => {
    if (textId !== undefined) parts.push({ type: 'text-end', id: textId })
    textId = undefined
  }
  const closeReasoning = (parts: LanguageModelV3StreamPart[]): void => {
    if (reasoningId !== undefined) parts.push({ type: 'reasoning-end', id: reasoningId })
    reasoningId = undefined
  }
  /** The first content block carries the serving target, so a UI can show it at once. */
  const startMetadata = (): { providerMetadata?: SharedV3ProviderMetadata } => {
    if (served === undefined) return {}
    const metadata = served
    served = undefined
    return { providerMetadata: metadata }
  }

  const partsOf = (event: StreamEvent, parts: LanguageModelV3StreamPart[]): void => {
    switch (event.type) {
      case 'start':
        parts.push({ type: 'stream-start', warnings })
        parts.push({ type: 'response-metadata', modelId: event.target })
        served = {
          understudy: { target: event.target, provider: event.provider, model: event.model },
        }
        return
      case 'text':
        closeReasoning(parts)
        if (textId === undefined) {
          textId = String(blocks++)
          parts.push({ type: 'text-start', id: textId, ...startMetadata() })
        }
        parts.push({ type: 'text-delta', id: textId, delta: event.text })
        return
      case 'reasoning':
        closeText(parts)
        if (reasoningId === undefined) {
          reasoningId = String(blocks++)
          parts.push({ type: 'reasoning-start', id: reasoningId, ...startMetadata() })
        }
        parts.push({ type: 'reasoning-delta', id: reasoningId, delta: event.text })
        return
      case 'tool-call-delta': {
        let call = toolCalls.get(event.index)
        if (call === undefined) {
          call = {
            id: event.id ?? `understudy-call-${event.index}`,
            name: event.name ?? '',
            arguments: '',
          }
          toolCalls.set(event.index, call)
          parts.push({
            type: 'tool-input-start',
            id: call.id,
            toolName: call.name,
            ...startMetadata(),
          })
        }
        if (event.argumentsDelta !== '') {
          call.arguments += event.argumentsDelta
          parts.push({ type: 'tool-input-delta', id: call.id, delta: event.argumentsDelta })
        }
        return
      }
      case 'finish':
        // Completed by `finish()` below, once the response (and its trace) is there.
        return
      default:
        event satisfies never
    }
  }

  const finish = async (parts: LanguageModelV3StreamPart[]): Promise<void> => {
    // The response first: its providerState goes on the text's end and the
    // tool calls, for the next step of a tool loop (see provider-state.ts).
    const response = await source.stream.response
    const metadata = providerStateMetadata(response.message.providerState)
    const state = metadata === undefined ? {} : { providerMetadata: metadata }
    closeReasoning(parts)
    if (textId !== undefined) parts.push({ type: 'text-end', id: textId, ...state })
    textId = undefined
    for (const call of toolCalls.values()) {
      parts.push({ type: 'tool-input-end', id: call.id })
      parts.push({
        type: 'tool-call',
        toolCallId: call.id,
        toolName: call.name,
        input: call.arguments === '' ? '{}' : call.arguments,
        ...state,
      })
    }
    parts.push({
      type: 'finish',
      finishReason: toAISDKFinishReason(response.finishReason),
      usage: toAISDKUsage(response.usage),
      providerMetadata: { understudy: traceOf(response) },
    })
  }

  const fail = (error: UnderstudyError, parts: LanguageModelV3StreamPart[]): void => {
    const attempts = error.attempts.map(traceAttempt)
    const last = attempts[attempts.length - 1]
    parts.push({ type: 'error', error: toAPICallError(error, source.primary) })
    parts.push({
      type: 'finish',
      finishReason: { unified: 'error', raw: error.kind },
      usage: toAISDKUsage(error.partial?.usage ?? {}),
      providerMetadata: {
        understudy: {
          target: last?.target ?? source.primary,
          ...(last !== undefined && { provider: last.provider, model: last.model }),
          attempts,
        },
      },
    })
  }

  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      const parts: LanguageModelV3StreamPart[] = []
      try {
        while (parts.length === 0 && !ended) {
          const result = pending ?? (await iterator.next())
          pending = undefined
          if (result.done === true) {
            ended = true
            await finish(parts)
          } else {
            partsOf(result.value, parts)
          }
        }
      } catch (error) {
        ended = true
        if (!isUnderstudyError(error)) throw error
        fail(error, parts)
      }
      for (const part of parts) controller.enqueue(part)
      if (ended) controller.close()
    },
    async cancel() {
      ended = true
      await iterator.return?.()
    },
  })
}
