import {
  type AssistantMessage,
  type ChatRequest,
  type ImagePart,
  type Message,
  type ResponseFormat,
  type TextPart,
  type Tool,
  type ToolChoice,
  UnderstudyError,
} from '@understudy/core'
import {
  type AttemptTarget,
  type HttpRequestSpec,
  sniffImageType,
  toBase64,
} from '@understudy/provider-kit'
import { type AnthropicVersion, rejectedSamplingParams } from './api-version.js'
import { originOf, replayableThinking } from './thinking-state.js'

/** How {@link buildAnthropicRequest} shapes one attempt's request. */
export interface AnthropicRequestOptions {
  /** Ask for a `text/event-stream` answer (`stream: true`). */
  readonly stream: boolean
  /** Where the attempt goes: the path under its base URL, and the origin of thinking blocks. */
  readonly target: AttemptTarget
  /** The `anthropic-version` header, and the parameters that version rejects. */
  readonly version: AnthropicVersion
  /** `max_tokens` when the request sets no `maxTokens` (the API requires one). */
  readonly maxTokens: number
}

/** A Messages API value under construction: a fresh object per attempt. */
type Body = Record<string, unknown>

/** One message of the API: a role and its content blocks. */
interface Turn {
  readonly role: 'user' | 'assistant'
  readonly content: Body[]
}

/**
 * Keys `providerOptions.anthropic` cannot set: the fields the adapter owns
 * (the attempt's parser and the target's model depend on them), and
 * `__proto__`, which would replace the body's prototype instead of adding a field.
 */
const ownFields: ReadonlySet<string> = new Set(['model', 'messages', 'stream', '__proto__'])

/** The image types the Messages API takes. */
const imageTypes: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
])

/**
 * The Messages API request (`POST /v1/messages`) of one attempt. Builds
 * fresh values and never writes `request`; nested values the caller gave
 * (tool schemas, provider options) are referenced, not copied, since
 * nothing downstream writes them.
 *
 * - System messages become the top-level `system`, in order.
 * - Tool results become `tool_result` blocks in a user turn, and
 *   consecutive turns of one role are merged into one (the API takes no
 *   two in a row), every block kept in order.
 * - A final assistant turn is a prefill the model continues; its trailing
 *   whitespace is not sent (the API refuses it).
 * - Assistant turns carry their text, their tool calls as `tool_use`
 *   blocks (ids kept) and — only when this same origin wrote them — their
 *   signed thinking blocks from `providerState`.
 * - Images: `https:` URLs as `url` sources, `data:` URLs and bytes as
 *   `base64` sources.
 * - `tools`, `toolChoice` (`required` → `any`), `maxTokens` (else
 *   `options.maxTokens`), `stop` → `stop_sequences`, `user` →
 *   `metadata.user_id`, `responseFormat: json_schema` →
 *   `output_config.format`; `temperature`, `topP`, `topK` where the version
 *   takes them; then `providerOptions.anthropic` merged over the body.
 *
 * @throws UnderstudyError kind `unsupported` for what the API cannot
 * express: `seed`, `responseFormat: { type: 'json' }` (the API takes a
 * schema, not "any JSON"), a sampling parameter the version rejects, an
 * image type other than JPEG, PNG, GIF or WebP (or an image URL that is
 * neither `https:`/`http:` nor `data:`), tool call arguments that are not a
 * JSON object.
 */
export function buildAnthropicRequest(
  request: ChatRequest,
  options: AnthropicRequestOptions,
): HttpRequestSpec {
  checkExpressible(request, options.version)
  const system: Body[] = []
  const turns: Turn[] = []
  let origin: string | undefined
  for (const message of request.messages) {
    if (message.role === 'system') {
      system.push({ type: 'text', text: message.content })
      continue
    }
    let blocks: Body[]
    if (message.role === 'assistant') {
      if (message.providerState !== undefined) origin ??= originOf(options.target)
      blocks = assistantBlocks(message, origin)
    } else {
      blocks = userBlocks(message)
    }
    if (blocks.length === 0) continue
    const role = message.role === 'assistant' ? 'assistant' : 'user'
    const last = turns[turns.length - 1]
    if (last !== undefined && last.role === role) last.content.push(...blocks)
    else turns.push({ role, content: blocks })
  }
  trimPrefill(turns)
  const body: Body = {
    model: request.model,
    max_tokens: request.maxTokens ?? options.maxTokens,
    messages: turns.map(toWireTurn),
  }
  if (system.length === 1) body.system = (system[0] as Body).text
  else if (system.length > 1) body.system = system
  const tools = request.tools
  if (tools !== undefined && tools.length > 0) {
    body.tools = tools.map(toAnthropicTool)
    // A tool choice without tools means nothing: there is nothing to choose.
    if (request.toolChoice !== undefined)
      body.tool_choice = toAnthropicToolChoice(request.toolChoice)
  }
  if (request.responseFormat?.type === 'json_schema') {
    body.output_config = { format: toOutputFormat(request.responseFormat) }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined) body.top_k = request.topK
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop
  if (request.user !== undefined) body.metadata = { user_id: request.user }
  if (options.stream) body.stream = true
  const own = request.providerOptions?.anthropic
  if (own !== undefined) {
    for (const key of Object.keys(own)) {
      if (!ownFields.has(key)) body[key] = own[key]
    }
  }
  return {
    path: messagesPath(options.target.baseURL),
    body,
    headers: { 'anthropic-version': options.version },
  }
}

/**
 * The path of the Messages API under `baseURL`: the official SDK takes the
 * origin (`https://api.anthropic.com`) and adds `/v1/messages`; a base URL
 * that already ends in `/v1` gets `/messages`.
 */
export function messagesPath(baseURL: string): string {
  return /\/v1\/?$/.test(baseURL) ? '/messages' : '/v1/messages'
}

/** Throws kind `unsupported`, naming what is missing, for a parameter the API or version cannot take. */
function checkExpressible(request: ChatRequest, version: AnthropicVersion): void {
  if (request.seed !== undefined) throw unsupported('seed (the Messages API has no seed)')
  if (request.responseFormat?.type === 'json') {
    throw unsupported(
      'responseFormat { type: "json" } (the Messages API constrains output to a JSON schema only: use json_schema)',
    )
  }
  const rejected = rejectedSamplingParams(version).filter(
    (param) => request[param.field] !== undefined,
  )
  if (rejected.length > 0) {
    const names = rejected.map((param) => `${param.field} (${param.wire})`).join(', ')
    throw unsupported(
      `${names} under anthropic-version ${version}, which rejects them; unset them for this target or use version "2023-06-01"`,
    )
  }
}

function unsupported(what: string): UnderstudyError {
  return new UnderstudyError({ kind: 'unsupported', message: `cannot express ${what}` })
}

/**
 * A request that ends with the assistant's turn asks the model to continue
 * it (prefill, which `assistantPrefix` declares); the API refuses a final
 * assistant text that ends in whitespace, so that whitespace is not sent.
 */
function trimPrefill(turns: Turn[]): void {
  const last = turns[turns.length - 1]
  const block = last?.role === 'assistant' ? last.content[last.content.length - 1] : undefined
  if (last === undefined || block === undefined || block.type !== 'text') return
  const text = String(block.text).trimEnd()
  // The block is this call's own value: replaced, not written.
  if (text === '') last.content.pop()
  else last.content[last.content.length - 1] = { type: 'text', text }
  if (last.content.length === 0) turns.pop()
}

function toWireTurn(turn: Turn): Body {
  // One text block alone is sent as a string, as the API documents it and the SDK examples write it.
  const only = turn.content.length === 1 ? turn.content[0] : undefined
  if (only !== undefined && only.type === 'text' && only.cache_control === undefined) {
    return { role: turn.role, content: only.text }
  }
  return { role: turn.role, content: turn.content }
}

function userBlocks(message: Exclude<Message, AssistantMessage | { role: 'system' }>): Body[] {
  if (message.role === 'tool') {
    return [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }]
  }
  if (typeof message.content === 'string') {
    // The API rejects empty text blocks.
    return message.content === '' ? [] : [{ type: 'text', text: message.content }]
  }
  const blocks: Body[] = []
  for (const part of message.content) {
    const block = toUserBlock(part)
    if (block !== undefined) blocks.push(block)
  }
  return blocks
}

function toUserBlock(part: TextPart | ImagePart): Body | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : { type: 'text', text: part.text }
    case 'image':
      return { type: 'image', source: imageSourceOf(part) }
    default:
      return part satisfies never
  }
}

function assistantBlocks(message: AssistantMessage, origin: string | undefined): Body[] {
  const blocks: Body[] = []
  if (origin !== undefined) {
    for (const block of replayableThinking(message.providerState, origin)) blocks.push({ ...block })
  }
  if (message.content !== '') blocks.push({ type: 'text', text: message.content })
  for (const call of message.toolCalls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: inputOf(call.arguments) })
  }
  return blocks
}

/** A tool call's JSON arguments as the object `tool_use.input` must be; `''` is `{}`. */
function inputOf(text: string): unknown {
  if (text.trim() === '') return {}
  let input: unknown
  try {
    input = JSON.parse(text)
  } catch {
    input = undefined
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw unsupported('tool call arguments that are not a JSON object (tool_use.input is one)')
  }
  return input
}

/** `https:` URLs as URL sources; `data:` URLs and bytes as base64 sources of a type the API takes. */
function imageSourceOf(part: ImagePart): Body {
  if (typeof part.image === 'string') {
    const url = part.image
    const data = /^data:([^;,]+);base64,(.*)$/s.exec(url)
    if (data !== null) return base64Source(data[1] as string, data[2] as string)
    if (/^https?:/i.test(url)) return { type: 'url', url }
    throw unsupported('an image URL that is neither http(s): nor a base64 data: URL')
  }
  const bytes = part.image
  const mediaType = part.mediaType ?? sniffImageType(bytes)
  if (mediaType === undefined) {
    throw new UnderstudyError({
      kind: 'invalid_request',
      message: 'an image given as bytes needs a mediaType (image/png, image/jpeg, …)',
    })
  }
  return base64Source(mediaType, toBase64(bytes))
}

function base64Source(mediaType: string, data: string): Body {
  const type = mediaType.toLowerCase()
  if (!imageTypes.has(type)) {
    throw unsupported(`an image of type ${mediaType} (the API takes JPEG, PNG, GIF and WebP)`)
  }
  return { type: 'base64', media_type: type, data }
}

function toAnthropicTool(tool: Tool): Body {
  const wire: Body = { name: tool.name }
  if (tool.description !== undefined) wire.description = tool.description
  wire.input_schema = tool.parameters
  return wire
}

function toAnthropicToolChoice(choice: ToolChoice): Body {
  switch (choice) {
    case 'auto':
      return { type: 'auto' }
    case 'none':
      return { type: 'none' }
    case 'required':
      return { type: 'any' }
    default:
      return { type: 'tool', name: choice.name }
  }
}

function toOutputFormat(format: Extract<ResponseFormat, { type: 'json_schema' }>): Body {
  return { type: 'json_schema', schema: format.schema }
}
