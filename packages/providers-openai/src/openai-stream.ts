import {
  type FinishReason,
  type ProviderStreamEvent,
  type ToolCallDeltaEvent,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import type { SseMessage, StreamParser } from '@understudy/provider-kit'
import { z } from 'zod'
import { createOpenAIInBandError, isOpenAIErrorBody } from './openai-errors.js'
import { mapOpenAIFinishReason } from './openai-response.js'
import { openAIUsageSchema, toUsage } from './openai-usage.js'

const toolCallDeltaSchema = z.object({
  index: z.number().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
})

/**
 * One `chat.completion.chunk`, as loose as compatible servers need: extra
 * fields ignored (`obfuscation`, Azure's filter results, Groq's `x_groq`),
 * `choices` possibly empty (the usage chunk, Azure's first chunk), `usage`
 * possibly `null` or missing.
 */
const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: z
          .object({
            content: z.string().nullish(),
            // Reasoning text of compatible servers: `reasoning` (OpenRouter, Groq, vLLM), `reasoning_content` (DeepSeek).
            reasoning: z.string().nullish(),
            reasoning_content: z.string().nullish(),
            tool_calls: z.array(toolCallDeltaSchema).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: openAIUsageSchema,
})

const none: readonly ProviderStreamEvent[] = Object.freeze([])

/**
 * A fresh parser of one attempt's Chat Completions stream (SSE `data:`
 * chunks) into stream events:
 *
 * - `delta.content` → `text`, `delta.reasoning` / `reasoning_content` →
 *   `reasoning`; empty pieces are no event;
 * - `delta.tool_calls` → `tool-call-delta` by `index`, with the call's `id`
 *   and `name` on the first delta that carries them and argument fragments
 *   after;
 * - one `finish` last, carrying the `finish_reason` and the usage (which
 *   comes in a later `choices: []` chunk), when `data: [DONE]` arrives or,
 *   failing that, when the body ends.
 *
 * The terminal signal is a `finish_reason`: a body (or `[DONE]`) without one
 * throws kind `incomplete` — never a synthesized `stop`. An in-band error
 * (`data: {"error": …}`, Groq's `event: error`) throws, classified like the
 * HTTP error it names (`readOpenAIError`); a chunk that is not JSON or
 * not a chunk throws kind `server`. Azure's first chunk (empty `choices`,
 * only `prompt_filter_results`) yields nothing. Only the first choice
 * (`index` 0) is read.
 */
export function createOpenAIStreamParser(): StreamParser {
  let finishReason: FinishReason | undefined
  let usage: Usage = {}
  let ended = false
  /** Per tool-call index: whether its id and its name were sent already. */
  const toolCalls = new Map<number, { id: boolean; name: boolean }>()

  const finish = (): readonly ProviderStreamEvent[] => {
    ended = true
    if (finishReason === undefined) {
      throw new UnderstudyError({
        kind: 'incomplete',
        message: 'the stream ended without a finish_reason',
      })
    }
    return [{ type: 'finish', finishReason, usage }]
  }

  return {
    push(message: SseMessage): readonly ProviderStreamEvent[] {
      if (ended) return none
      const data = message.data
      if (data === '[DONE]') return finish()
      // A keep-alive `data:` with nothing in it.
      if (data.trim() === '') return none
      const json = parseJson(data)
      if (message.event === 'error' || isOpenAIErrorBody(json)) throw createOpenAIInBandError(json)
      const parsed = chunkSchema.safeParse(json)
      if (!parsed.success) {
        throw new UnderstudyError({
          kind: 'server',
          message: 'the upstream sent a stream event that is not a chat completion chunk',
        })
      }
      const chunk = parsed.data
      if (chunk.usage !== null && chunk.usage !== undefined) usage = toUsage(chunk.usage)
      const choice = chunk.choices?.find((each) => (each.index ?? 0) === 0)
      if (choice === undefined) return none
      // Some compatible servers send `""` on every chunk before the real one.
      if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
        finishReason = mapOpenAIFinishReason(choice.finish_reason)
      }
      const delta = choice.delta
      if (delta === null || delta === undefined) return none
      const events: ProviderStreamEvent[] = []
      const reasoning = delta.reasoning ?? delta.reasoning_content
      if (typeof reasoning === 'string' && reasoning !== '') {
        events.push({ type: 'reasoning', text: reasoning })
      }
      if (typeof delta.content === 'string' && delta.content !== '') {
        events.push({ type: 'text', text: delta.content })
      }
      const calls = delta.tool_calls
      if (calls !== null && calls !== undefined) {
        for (const [position, call] of calls.entries()) {
          const event = toolCallEvent(call, call.index ?? position)
          if (event !== undefined) events.push(event)
        }
      }
      return events
    },
    end(): readonly ProviderStreamEvent[] {
      // A body that ends after a finish_reason but without [DONE] is accepted (DESIGN.md, Streaming).
      return ended ? none : finish()
    },
  }

  function toolCallEvent(
    call: z.infer<typeof toolCallDeltaSchema>,
    index: number,
  ): ToolCallDeltaEvent | undefined {
    let sent = toolCalls.get(index)
    if (sent === undefined) {
      sent = { id: false, name: false }
      toolCalls.set(index, sent)
    }
    // Some servers repeat the id and name on every delta: only the first counts.
    const id = !sent.id && typeof call.id === 'string' && call.id !== '' ? call.id : undefined
    const name = call.function?.name
    const newName = !sent.name && typeof name === 'string' && name !== '' ? name : undefined
    const argumentsDelta = call.function?.arguments ?? ''
    if (id === undefined && newName === undefined && argumentsDelta === '') return undefined
    if (id !== undefined) sent.id = true
    if (newName !== undefined) sent.name = true
    return {
      type: 'tool-call-delta',
      index,
      ...(id !== undefined && { id }),
      ...(newName !== undefined && { name: newName }),
      argumentsDelta,
    }
  }
}

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    throw new UnderstudyError({
      kind: 'server',
      message: 'the upstream sent a stream event that is not JSON',
    })
  }
}
