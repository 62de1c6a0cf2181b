import { type FinishReason, type ProviderStreamEvent, UnderstudyError } from '@understudy/core'
import type { AttemptTarget, SseMessage, StreamParser } from '@understudy/provider-kit'
import { z } from 'zod'
import { createAnthropicInBandError } from './anthropic-errors.js'
import { mapStopReason } from './anthropic-finish-reason.js'
import { type AnthropicUsage, mergeUsage, toUsage } from './anthropic-usage.js'
import { type ThinkingBlock, thinkingState } from './thinking-state.js'

/** `usage`: any object; a count written oddly is dropped by `toUsage`, never fatal. */
const usageSchema = z.looseObject({}).nullish().catch(undefined)

const messageStartSchema = z.object({ message: z.object({ usage: usageSchema }) })

const blockStartSchema = z.object({
  index: z.number(),
  content_block: z.looseObject({
    type: z.string(),
    text: z.string().nullish(),
    id: z.string().nullish(),
    name: z.string().nullish(),
    data: z.string().nullish(),
  }),
})

const blockDeltaSchema = z.object({
  index: z.number(),
  delta: z.looseObject({
    type: z.string(),
    text: z.string().nullish(),
    partial_json: z.string().nullish(),
    thinking: z.string().nullish(),
    signature: z.string().nullish(),
  }),
})

const messageDeltaSchema = z.object({
  delta: z.object({ stop_reason: z.string().nullish() }).nullish(),
  usage: usageSchema,
})

/** What the parser remembers of an open content block, by its `index`. */
type OpenBlock =
  | { readonly type: 'text' }
  | { readonly type: 'tool_use'; readonly toolIndex: number }
  | { readonly type: 'thinking'; thinking: string; signature: string }
  | { readonly type: 'redacted_thinking'; readonly data: string }
  | { readonly type: 'other' }

const none: readonly ProviderStreamEvent[] = Object.freeze([])

/**
 * A fresh parser of one attempt's Messages API stream into stream events:
 *
 * - `text_delta` → `text`; `thinking_delta` → `reasoning`;
 * - a `tool_use` block → a `tool-call-delta` with its id and name when it
 *   opens, then one per `input_json_delta` fragment, numbered from 0 in the
 *   order tool calls open (server tool use and its input are skipped);
 * - `signature_delta` and `redacted_thinking` blocks are kept for the
 *   finish's `providerState`; `citations_delta` and `ping` are ignored;
 * - `message_delta` carries the stop reason and usage; `message_stop` is
 *   the terminal signal and yields the `finish`.
 *
 * A body that ends without `message_stop` throws kind `incomplete`. An
 * `event: error` throws, classified by its `type` (`overloaded_error` →
 * `overloaded`, `api_error` → `server`). A `refusal` stop reason after
 * content was delivered throws kind `content_policy` (the engine makes it
 * the `cause` of `stream_interrupted`, with what was delivered as
 * `partial`); before any content it is a finish of `content_filter`, which
 * moves the call to the content-policy chain.
 */
export function createAnthropicStreamParser(target?: AttemptTarget): StreamParser {
  return createParser(target, true)
}

/** {@link createAnthropicStreamParser} with every event through the schemas: the reference for the fast path. */
export function createAnthropicStreamParserWithSchema(target?: AttemptTarget): StreamParser {
  return createParser(target, false)
}

function createParser(target: AttemptTarget | undefined, fast: boolean): StreamParser {
  const blocks = new Map<number, OpenBlock>()
  let tools = 0
  let usage: AnthropicUsage | undefined
  let stopReason: string | undefined
  let delivered = false
  let ended = false

  return {
    push(message: SseMessage): readonly ProviderStreamEvent[] {
      if (ended) return none
      const data = message.data
      if (data.trim() === '') return none
      const json = parseJson(data)
      if (fast && isPlainTextDelta(json)) {
        const delta = (json as PlainTextDelta).delta.text
        if (blocks.get((json as PlainTextDelta).index)?.type !== 'text' || delta === '') return none
        delivered = true
        return [{ type: 'text', text: delta }]
      }
      const type = isRecord(json) && typeof json.type === 'string' ? json.type : message.event
      switch (type) {
        case 'message_start':
          usage = mergeUsage(usage, read(messageStartSchema, json).message.usage as AnthropicUsage)
          return none
        case 'content_block_start':
          return blockStart(read(blockStartSchema, json))
        case 'content_block_delta':
          return blockDelta(read(blockDeltaSchema, json))
        case 'message_delta':
          return messageDelta(read(messageDeltaSchema, json))
        case 'message_stop':
          return finish()
        case 'error':
          throw createAnthropicInBandError(json)
        default:
          // `ping`, `content_block_stop` and events added later.
          return none
      }
    },
    end(): readonly ProviderStreamEvent[] {
      if (ended) return none
      ended = true
      throw new UnderstudyError({
        kind: 'incomplete',
        message: 'the stream ended without message_stop',
      })
    },
  }

  function blockStart(event: z.output<typeof blockStartSchema>): readonly ProviderStreamEvent[] {
    const block = event.content_block
    switch (block.type) {
      case 'text': {
        blocks.set(event.index, { type: 'text' })
        const text = block.text ?? ''
        if (text === '') return none
        delivered = true
        return [{ type: 'text', text }]
      }
      case 'tool_use': {
        const toolIndex = tools++
        blocks.set(event.index, { type: 'tool_use', toolIndex })
        delivered = true
        const start: { -readonly [K in keyof ToolStart]: ToolStart[K] } = {
          type: 'tool-call-delta',
          index: toolIndex,
          argumentsDelta: '',
        }
        if (typeof block.id === 'string' && block.id !== '') start.id = block.id
        if (typeof block.name === 'string' && block.name !== '') start.name = block.name
        return [start]
      }
      case 'thinking':
        blocks.set(event.index, { type: 'thinking', thinking: '', signature: '' })
        return none
      case 'redacted_thinking':
        blocks.set(event.index, { type: 'redacted_thinking', data: block.data ?? '' })
        return none
      default:
        blocks.set(event.index, { type: 'other' })
        return none
    }
  }

  function blockDelta(event: z.output<typeof blockDeltaSchema>): readonly ProviderStreamEvent[] {
    const block = blocks.get(event.index)
    const delta = event.delta
    if (block === undefined) return none
    switch (delta.type) {
      case 'text_delta': {
        const text = delta.text ?? ''
        if (block.type !== 'text' || text === '') return none
        delivered = true
        return [{ type: 'text', text }]
      }
      case 'input_json_delta': {
        const fragment = delta.partial_json ?? ''
        if (block.type !== 'tool_use' || fragment === '') return none
        return [{ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: fragment }]
      }
      case 'thinking_delta': {
        const thinking = delta.thinking ?? ''
        if (block.type !== 'thinking' || thinking === '') return none
        block.thinking += thinking
        delivered = true
        return [{ type: 'reasoning', text: thinking }]
      }
      case 'signature_delta':
        if (block.type === 'thinking') block.signature += delta.signature ?? ''
        return none
      default:
        // `citations_delta` and deltas added later.
        return none
    }
  }

  function messageDelta(
    event: z.output<typeof messageDeltaSchema>,
  ): readonly ProviderStreamEvent[] {
    usage = mergeUsage(usage, event.usage as AnthropicUsage | undefined)
    const reason = event.delta?.stop_reason
    if (typeof reason === 'string' && reason !== '') stopReason = reason
    if (reason === 'refusal' && delivered) {
      ended = true
      // After the commit point a refusal cannot move to another target: the
      // engine ends the stream as `stream_interrupted` with this as its cause.
      throw new UnderstudyError({
        kind: 'content_policy',
        message: 'the model refused mid-answer (stop_reason refusal)',
      })
    }
    return none
  }

  function finish(): readonly ProviderStreamEvent[] {
    ended = true
    const finishReason: FinishReason = mapStopReason(stopReason)
    const thinking: ThinkingBlock[] = []
    for (const block of blocks.values()) {
      if (block.type === 'thinking' && block.signature !== '') {
        thinking.push({ type: 'thinking', thinking: block.thinking, signature: block.signature })
      } else if (block.type === 'redacted_thinking' && block.data !== '') {
        thinking.push({ type: 'redacted_thinking', data: block.data })
      }
    }
    const state = thinkingState(thinking, target)
    return state === undefined
      ? [{ type: 'finish', finishReason, usage: toUsage(usage) }]
      : [{ type: 'finish', finishReason, usage: toUsage(usage), providerState: state }]
  }
}

type ToolStart = Extract<ProviderStreamEvent, { type: 'tool-call-delta' }>

/** The one event {@link isPlainTextDelta} lets past the schemas. */
interface PlainTextDelta {
  readonly index: number
  readonly delta: { readonly text: string }
}

/**
 * Tells, fast, whether `json` is the common event: a `content_block_delta`
 * with a numeric `index` and a `text_delta` of string `text`. `true` means
 * the schema path reads the same event from it (a property test holds the
 * two together). Why: most events of a stream are these, and `safeParse`
 * copies each one.
 */
export function isPlainTextDelta(json: unknown): boolean {
  if (!isRecord(json) || json.type !== 'content_block_delta') return false
  if (typeof json.index !== 'number') return false
  const delta = json.delta
  return isRecord(delta) && delta.type === 'text_delta' && typeof delta.text === 'string'
}

function read<T>(schema: z.ZodType<T>, json: unknown): T {
  const parsed = schema.safeParse(json)
  if (parsed.success) return parsed.data
  throw new UnderstudyError({
    kind: 'server',
    message: 'the upstream sent a stream event that is not a Messages API event',
  })
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
