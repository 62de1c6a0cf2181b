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
import { isPlainUsage, type OpenAIUsage, openAIUsageSchema, toUsage } from './openai-usage.js'

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
  return createParser(true)
}

/**
 * {@link createOpenAIStreamParser} with every chunk through the schema, never
 * the fast check: the reference the fast path is tested against.
 */
export function createOpenAIStreamParserWithSchema(): StreamParser {
  return createParser(false)
}

function createParser(fast: boolean): StreamParser {
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
      if (fast && isPlainChunk(json)) return pushPlain(json as PlainChunk)
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

  /** A chunk {@link isPlainChunk} took: read as the schema path would read it, without the copy. */
  function pushPlain(chunk: PlainChunk): readonly ProviderStreamEvent[] {
    const chunkUsage = chunk.usage
    if (chunkUsage !== null && chunkUsage !== undefined) usage = toUsage(chunkUsage)
    const choice = chunk.choices?.[0]
    if (choice === undefined) return none
    const reason = choice.finish_reason
    if (typeof reason === 'string' && reason !== '') finishReason = mapOpenAIFinishReason(reason)
    const content = choice.delta?.content
    return typeof content === 'string' && content !== '' ? [{ type: 'text', text: content }] : none
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

/** The one shape {@link isPlainChunk} lets past the schema. */
interface PlainChunk {
  readonly choices?:
    | readonly {
        readonly finish_reason?: string | null
        readonly delta?: { readonly content?: string | null } | null
      }[]
    | null
  readonly usage?: OpenAIUsage | null
}

/**
 * Tells, fast, whether `json` is the common chunk: at most one choice, of
 * index 0, whose delta holds at most string `content` (no tool calls, no
 * reasoning), with an optional string `finish_reason` and a plain usage.
 * `true` means the schema accepts the chunk and the parser reads the same
 * events from it (a property test holds the two together); `false` only
 * means "let the schema decide" — and the schema also words every error.
 *
 * Why not the schema every time: `safeParse` copies each chunk and builds
 * its result, the largest share of the adapter's work per streamed chunk.
 */
export function isPlainChunk(json: unknown): boolean {
  if (!isRecord(json)) return false
  if (!isPlainUsage(json.usage)) return false
  const choices = json.choices
  if (choices === undefined || choices === null) return true
  if (!Array.isArray(choices) || choices.length > 1) return false
  if (choices.length === 0) return true
  const choice: unknown = choices[0]
  if (!isRecord(choice)) return false
  const index = choice.index
  if (index !== 0 && index !== undefined && index !== null) return false
  if (!isNullishString(choice.finish_reason)) return false
  const delta = choice.delta
  if (delta === undefined || delta === null) return true
  if (!isRecord(delta) || !isNullishString(delta.content)) return false
  return (
    isNullish(delta.tool_calls) && isNullish(delta.reasoning) && isNullish(delta.reasoning_content)
  )
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isNullish(value: unknown): boolean {
  return value === undefined || value === null
}

function isNullishString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string'
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
