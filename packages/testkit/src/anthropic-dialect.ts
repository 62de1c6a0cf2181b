import { randomBytes } from 'node:crypto'
import type { FinishReason } from '@understudy/core'
import type { Dialect, DialectStream } from './dialect.js'
import type { AnswerReply, ReplyToolCall } from './reply.js'
import type { SseEvent } from './sse.js'

/** The organization id the recorded responses carry, placeholder and all. */
const organizationId = '00000000-0000-0000-0000-000000000000'

/** The alphabet of Anthropic's ids (`msg_01VdEjxAP5ahtHKrrRdNBteQ`): base58. */
const idAlphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function randomId(prefix: string, length: number): string {
  let id = prefix
  for (const byte of randomBytes(length)) id += idAlphabet[byte % idAlphabet.length]
  return id
}

/** `req_011CZAau32QzxDkriovTaFCB`, as in `error-529-overloaded.json`. */
const requestId = (): string => randomId('req_011C', 20)
/** `msg_01VdEjxAP5ahtHKrrRdNBteQ`, as in `message-text.json`. */
const messageId = (): string => randomId('msg_01', 22)
/** `toolu_01WN4AuToBnJyXNQXwQBBebj`, as in `message-tool-use.json`. */
const toolUseId = (): string => randomId('toolu_01', 22)
/** An opaque thinking signature; only its presence matters to a client. */
const signature = (): string => randomBytes(48).toString('base64')

/** Anthropic's `stop_reason` for each finish reason. */
const stopReasons = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  // Streaming classifiers that stop an answer end it with `refusal`, in a 200:
  // https://docs.anthropic.com/en/docs/test-and-evaluate/strengthen-guardrails/handle-streaming-refusals
  content_filter: 'refusal',
  // A real stop reason that none of the four above names.
  other: 'pause_turn',
} as const satisfies Record<FinishReason, string>

/**
 * Error bodies per status, messages taken from the recorded responses in
 * `fixtures/anthropic/`. 402, 403, 500 and 504 have no recording; theirs
 * follow the `type` Anthropic's errors page gives the status.
 */
const invalidRequest = {
  type: 'invalid_request_error',
  message:
    "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
} as const
const apiError = { type: 'api_error', message: 'Internal server error' } as const
const errorTypes: Readonly<Record<number, { readonly type: string; readonly message: string }>> = {
  400: invalidRequest,
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  402: {
    type: 'billing_error',
    message: 'There is an issue with your billing or payment information.',
  },
  403: {
    type: 'permission_error',
    message: 'Your API key does not have permission to use the specified resource.',
  },
  429: {
    type: 'rate_limit_error',
    message: `This request would exceed the rate limit for your organization (${organizationId}) of 20,000 input tokens per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`,
  },
  500: apiError,
  504: { type: 'timeout_error', message: 'Request timeout' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
}

/** One content block of an answer, in the order the model emits them. */
type Block =
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature: string }
  | { readonly type: 'text'; readonly text: string; readonly pieces: readonly string[] }
  | { readonly type: 'tool_use'; readonly call: ReplyToolCall; readonly id: string }

interface Answer {
  readonly blocks: readonly Block[]
  readonly stopReason: string
  readonly inputTokens: number
  readonly outputTokens: number
}

/** Reads a scripted answer once, so a stream and a body of the same reply agree. */
function readAnswer(reply: AnswerReply): Answer {
  const blocks: Block[] = []
  if (reply.reasoning !== undefined && reply.reasoning !== '') {
    blocks.push({ type: 'thinking', thinking: reply.reasoning, signature: signature() })
  }
  const text = reply.text ?? reply.chunks?.join('') ?? ''
  if (text !== '') blocks.push({ type: 'text', text, pieces: reply.chunks ?? splitWords(text) })
  for (const call of reply.toolCalls ?? []) {
    blocks.push({ type: 'tool_use', call, id: call.id ?? toolUseId() })
  }
  const toolCalls = reply.toolCalls ?? []
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop')
  const written = [reply.reasoning ?? '', text, ...toolCalls.map((call) => call.arguments)]
  return {
    blocks,
    stopReason: reply.stopReason ?? stopReasons[finishReason],
    inputTokens: reply.usage?.inputTokens ?? 12,
    // About four characters a token; the real API never reports zero output tokens.
    outputTokens: reply.usage?.outputTokens ?? Math.max(1, Math.ceil(written.join('').length / 4)),
  }
}

/**
 * The `stop_details` field of a refusal: its category and explanation
 * (`null` when the refusal names no category, as the API documents). Other
 * stop reasons carry none, as in the recorded responses.
 */
function stopDetailsOf(stopReason: string): Record<string, unknown> {
  return stopReason === 'refusal'
    ? { stop_details: { type: 'refusal', category: null, explanation: null } }
    : {}
}

/**
 * The sampling parameters `anthropic-version: 2026-10-21` rejects with a
 * 400 even at their default values; `2023-06-01` takes them.
 */
const samplingParams: readonly string[] = ['temperature', 'top_p', 'top_k']

/** `"Hello there, you"` → `["Hello", " there,", " you"]`: how the API streams words. */
function splitWords(text: string): readonly string[] {
  return text.split(/(?=\s)/).filter((piece) => piece !== '')
}

/** Tool input as the model streams it: small fragments of the JSON text. */
function splitJson(json: string): readonly string[] {
  const pieces: string[] = []
  for (let at = 0; at < json.length; at += 16) pieces.push(json.slice(at, at + 16))
  return pieces
}

/**
 * A tool call's `input`: its JSON arguments parsed. Arguments that are no
 * JSON object (a script testing a client's handling of bad tool JSON) become
 * `{}` here; a stream sends them verbatim.
 */
function parseInput(call: ReplyToolCall): Record<string, unknown> {
  try {
    const input: unknown = JSON.parse(call.arguments === '' ? '{}' : call.arguments)
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
      return input as Record<string, unknown>
    }
  } catch {
    // Falls through to the empty input.
  }
  return {}
}

/** The `usage` of a message, with every field `message-text.json` has. */
function usageOf(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
    inference_geo: 'not_available',
  }
}

function contentOf(block: Block): Record<string, unknown> {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: block.thinking, signature: block.signature }
    case 'text':
      return { type: 'text', text: block.text }
    case 'tool_use':
      return {
        type: 'tool_use',
        id: block.id,
        name: block.call.name,
        input: parseInput(block.call),
      }
    default:
      return block satisfies never
  }
}

/** A block as `content_block_start` opens it: empty, filled by the deltas that follow. */
function startOf(block: Block): Record<string, unknown> {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' }
    case 'text':
      return { type: 'text', text: '' }
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.call.name, input: {} }
    default:
      return block satisfies never
  }
}

function deltasOf(block: Block): readonly Record<string, unknown>[] {
  switch (block.type) {
    case 'thinking':
      return [
        ...splitWords(block.thinking).map((thinking) => ({ type: 'thinking_delta', thinking })),
        // The signature comes last, just before `content_block_stop`.
        { type: 'signature_delta', signature: block.signature },
      ]
    case 'text':
      return block.pieces.map((text) => ({ type: 'text_delta', text }))
    case 'tool_use':
      // The recordings open every tool input with an empty fragment.
      return ['', ...splitJson(block.call.arguments)].map((partial_json) => ({
        type: 'input_json_delta',
        partial_json,
      }))
    default:
      return block satisfies never
  }
}

function event(data: Record<string, unknown>): SseEvent {
  return { event: String(data.type), data: JSON.stringify(data) }
}

/**
 * The Anthropic Messages API (`POST /v1/messages`), as a fake server speaks
 * it: bodies, streams and errors shaped like the recorded responses in
 * `fixtures/anthropic/`. Finish reasons map to `stop_reason` as `stop` →
 * `end_turn`, `length` → `max_tokens`, `tool_calls` → `tool_use`,
 * `content_filter` → `refusal` (with `stop_details`), `other` → `pause_turn`,
 * or a reply's own `stopReason` verbatim; reasoning becomes a signed
 * `thinking` block. Under `anthropic-version: 2026-10-21` a request that
 * sets `temperature`, `top_p` or `top_k` gets the API's 400, whatever the script.
 */
export const anthropicDialect: Dialect = {
  name: 'anthropic',

  route(request) {
    if (request.method !== 'POST' || request.path !== '/v1/messages') return undefined
    const body = typeof request.body === 'object' && request.body !== null ? request.body : {}
    const model = Reflect.get(body, 'model')
    return {
      model: typeof model === 'string' ? model : undefined,
      stream: Reflect.get(body, 'stream') === true,
    }
  },

  reject(request) {
    // The version the SDK 1.x majors send: it takes no sampling parameters.
    if (request.headers['anthropic-version'] !== '2026-10-21') return undefined
    const body = typeof request.body === 'object' && request.body !== null ? request.body : {}
    const sent = samplingParams.find((name) => Reflect.get(body, name) !== undefined)
    if (sent === undefined) return undefined
    return {
      status: 400,
      body: {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: `${sent}: Extra inputs are not permitted under anthropic-version 2026-10-21`,
        },
        request_id: requestId(),
      },
    }
  },

  answer(reply, route) {
    const answer = readAnswer(reply)
    return {
      model: route.model ?? 'claude-sonnet-4-5-20250929',
      id: messageId(),
      type: 'message',
      role: 'assistant',
      content: answer.blocks.map(contentOf),
      stop_reason: answer.stopReason,
      stop_sequence: null,
      ...stopDetailsOf(answer.stopReason),
      usage: usageOf(answer.inputTokens, answer.outputTokens),
    }
  },

  stream(reply, route): DialectStream {
    const answer = readAnswer(reply)
    const events: SseEvent[] = [
      event({
        type: 'message_start',
        message: {
          model: route.model ?? 'claude-sonnet-4-5-20250929',
          id: messageId(),
          type: 'message',
          role: 'assistant',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: usageOf(answer.inputTokens, 1),
        },
      }),
    ]
    // One `ping` per stream: after the first block opens (stream-text.sse), or
    // after a tool input's empty first fragment (stream-tool-use.reconstructed.sse).
    const ping: SseEvent = { event: 'ping', data: '{"type": "ping"}' }
    answer.blocks.forEach((block, index) => {
      events.push(event({ type: 'content_block_start', index, content_block: startOf(block) }))
      const deltas = deltasOf(block).map((delta) =>
        event({ type: 'content_block_delta', index, delta }),
      )
      if (index === 0) deltas.splice(block.type === 'tool_use' ? 1 : 0, 0, ping)
      events.push(...deltas)
      events.push(event({ type: 'content_block_stop', index }))
    })
    if (answer.blocks.length === 0) events.push(ping)
    events.push(
      event({
        type: 'message_delta',
        delta: {
          stop_reason: answer.stopReason,
          stop_sequence: null,
          ...stopDetailsOf(answer.stopReason),
        },
        usage: {
          input_tokens: answer.inputTokens,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: answer.outputTokens,
        },
      }),
      event({ type: 'message_stop' }),
    )
    return { events, terminalEvents: 1 }
  },

  errorBody(status, route) {
    // Cloudflare answers a too-large request before the API sees it: no
    // top-level `type`, no `request_id` (error-413-request-too-large.json).
    if (status === 413) {
      return { error: { type: 'request_too_large', message: 'Request exceeds the maximum size' } }
    }
    const known =
      status === 404
        ? { type: 'not_found_error', message: `model: ${route?.model ?? ''}` }
        : (errorTypes[status] ??
          // Anthropic's errors page: other 4XX statuses may use `invalid_request_error`.
          (status < 500 ? invalidRequest : apiError))
    return { type: 'error', error: known, request_id: requestId() }
  },

  inBandError() {
    return {
      event: 'error',
      data: '{"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}',
    }
  },

  responseHeaders() {
    return { 'request-id': requestId(), 'anthropic-organization-id': organizationId }
  },
}
