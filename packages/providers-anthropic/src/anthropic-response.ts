import type { ProviderResponse, ProviderState, ToolCall } from '@understudy/core'
import { UnderstudyError } from '@understudy/core'
import type { ResponseInfo } from '@understudy/provider-kit'
import { z } from 'zod'
import { createAnthropicInBandError, isAnthropicErrorBody } from './anthropic-errors.js'
import { mapStopReason } from './anthropic-finish-reason.js'
import { type AnthropicUsage, toUsage } from './anthropic-usage.js'
import { type ThinkingBlock, thinkingState } from './thinking-state.js'

/** `usage`: any object; a count written oddly is dropped by `toUsage`, never fatal. */
const usageSchema = z.looseObject({}).nullish().catch(undefined)

/**
 * One content block, loose: every block has a `type`; the four kinds read
 * here must carry their fields, and every other kind (server tool use and
 * results, `fallback`, blocks added later) passes to be skipped.
 */
const blockSchema = z
  .looseObject({ type: z.string() })
  .refine(isReadableBlock, { message: 'a content block without the fields of its type' })

/** A Messages API response body, loose: extra fields ignored, `usage` optional. */
const messageSchema = z.object({
  content: z.array(blockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema,
})

/** A message as the schema (or the fast check) lets it through. */
interface AnthropicMessage {
  readonly content: readonly AnthropicBlock[]
  readonly stop_reason?: string | null | undefined
  readonly usage?: AnthropicUsage | null | undefined
}

interface AnthropicBlock {
  readonly type: string
  readonly [field: string]: unknown
}

/**
 * The {@link ProviderResponse} of a 200 Messages API body: `text` blocks
 * joined as the text, `tool_use` blocks as tool calls (ids kept, `input` as
 * JSON text), `thinking` blocks as reasoning, the stop reason as the finish
 * reason ({@link mapStopReason}), usage with cache reads and writes. Signed
 * `thinking` and `redacted_thinking` blocks go to the message's
 * `providerState` (with `info.target`, which names their origin), to be
 * sent back on the next turn to that origin only. Blocks the shared
 * response cannot hold — server tool use and results, citations,
 * `fallback` — are skipped.
 *
 * @throws UnderstudyError classified like the HTTP error when the body is
 * an `{ "type": "error" }`, and kind `server` when it is not a message.
 */
export function parseAnthropicResponse(body: unknown, info?: ResponseInfo): ProviderResponse {
  // A plain body is what the schema would give back for it (the property test of `isPlainMessage`).
  const message = isPlainMessage(body) ? (body as AnthropicMessage) : parseWithSchema(body)
  return toResponse(message, info)
}

/** {@link parseAnthropicResponse} with every body through the schema: the reference for the fast path. */
export function parseAnthropicResponseWithSchema(
  body: unknown,
  info?: ResponseInfo,
): ProviderResponse {
  return toResponse(parseWithSchema(body), info)
}

function parseWithSchema(body: unknown): AnthropicMessage {
  const parsed = messageSchema.safeParse(body)
  if (parsed.success) return parsed.data as AnthropicMessage
  if (isAnthropicErrorBody(body)) throw createAnthropicInBandError(body)
  const issue = parsed.error.issues[0]
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
  throw new UnderstudyError({
    kind: 'server',
    message: `the upstream answered 200 with a body that is not a message${where}`,
  })
}

/**
 * Tells, fast, whether `body` is a message of the plain shape the API
 * sends: a `content` list of blocks each readable as its type says, a
 * string or absent `stop_reason`, a `usage` object or none. `true` means
 * the schema accepts it and reads the same values (a property test holds
 * the two together); `false` only means "let the schema decide", which
 * also words every error. Why: `safeParse` copies the body on every call.
 */
export function isPlainMessage(body: unknown): boolean {
  if (!isRecord(body)) return false
  const content = body.content
  if (!Array.isArray(content)) return false
  for (const block of content) {
    if (!isRecord(block) || typeof block.type !== 'string' || !isReadableBlock(block)) return false
  }
  const reason = body.stop_reason
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return false
  const usage = body.usage
  return usage === undefined || usage === null || isRecord(usage)
}

/** Whether a block of a type this package reads carries that type's fields; other types always pass. */
function isReadableBlock(block: Readonly<Record<string, unknown>>): boolean {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string'
    case 'tool_use':
      return typeof block.id === 'string' && typeof block.name === 'string'
    case 'thinking':
      return typeof block.thinking === 'string' && typeof block.signature === 'string'
    case 'redacted_thinking':
      return typeof block.data === 'string'
    default:
      return true
  }
}

function toResponse(message: AnthropicMessage, info: ResponseInfo | undefined): ProviderResponse {
  let text = ''
  let reasoning = ''
  const toolCalls: ToolCall[] = []
  const thinking: ThinkingBlock[] = []
  for (const block of message.content) {
    switch (block.type) {
      case 'text':
        text += block.text as string
        break
      case 'tool_use':
        toolCalls.push({
          id: block.id as string,
          name: block.name as string,
          arguments: argumentsOf(block.input),
        })
        break
      case 'thinking':
        reasoning += block.thinking as string
        thinking.push({
          type: 'thinking',
          thinking: block.thinking as string,
          signature: block.signature as string,
        })
        break
      case 'redacted_thinking':
        thinking.push({ type: 'redacted_thinking', data: block.data as string })
        break
      default:
      // Server tool use and results, `fallback` and blocks added later: nothing the shared response holds.
    }
  }
  const state: ProviderState | undefined = thinkingState(thinking, info?.target)
  const assistant: {
    -readonly [K in keyof ProviderResponse['message']]: ProviderResponse['message'][K]
  } = {
    role: 'assistant',
    content: text,
  }
  if (toolCalls.length > 0) assistant.toolCalls = toolCalls
  if (state !== undefined) assistant.providerState = state
  const response: { -readonly [K in keyof ProviderResponse]: ProviderResponse[K] } = {
    text,
    message: assistant,
    toolCalls,
    finishReason: mapStopReason(message.stop_reason),
    usage: toUsage(message.usage),
  }
  if (reasoning !== '') response.reasoning = reasoning
  if (info !== undefined) {
    response.status = info.status
    if (info.requestId !== undefined) response.requestId = info.requestId
  }
  return response
}

/** `tool_use.input` as the JSON text of a tool call's arguments; none is `{}`. */
function argumentsOf(input: unknown): string {
  return input === undefined || input === null ? '{}' : JSON.stringify(input)
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
