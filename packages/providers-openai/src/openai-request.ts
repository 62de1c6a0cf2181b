import {
  type ChatRequest,
  type ImagePart,
  type Message,
  type ResponseFormat,
  type TextPart,
  type Tool,
  type ToolChoice,
  UnderstudyError,
} from '@understudy/core'
import { type HttpRequestSpec, sniffImageType, toBase64 } from '@understudy/provider-kit'

/** How {@link buildOpenAIRequest} shapes the body for one attempt. */
export interface OpenAIRequestOptions {
  /** Ask for a `text/event-stream` answer (`stream: true`). */
  readonly stream: boolean
  /**
   * With `stream`, ask for the usage chunk (`stream_options.include_usage`).
   * Off for the compatible servers that reject the option.
   */
  readonly includeUsage: boolean
  /**
   * Where `maxTokens` goes.
   * @default `max_completion_tokens` for the model families that require it
   * (see {@link usesMaxCompletionTokens}), else `max_tokens`
   */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens'
  /**
   * The id of the provider the request goes to: its `providerOptions` entry
   * is merged after `providerOptions.openai`, so `azure` or `groq` options win.
   * @default 'openai'
   */
  readonly providerId?: string
  /**
   * Mark a final assistant message (without tool calls) `prefix: true`, so
   * the server continues it rather than answering after it.
   * @default false
   */
  readonly assistantPrefix?: boolean
  /**
   * What becomes of `topK`: `'top_k'` sends it as `top_k` (vLLM, Together,
   * OpenRouter, Fireworks take it); `'unsupported'` fails the attempt before
   * any I/O with kind `unsupported`, since OpenAI's own Chat Completions API
   * (and Azure's) has no such parameter.
   * @default 'unsupported'
   */
  readonly topK?: 'top_k' | 'unsupported'
}

/** A Chat Completions body under construction: a fresh object per attempt. */
type Body = Record<string, unknown>

/**
 * Keys provider options cannot set: the fields the adapter owns (the
 * attempt's parser and the target's model depend on them), and `__proto__`,
 * which would replace the body's prototype instead of adding a field.
 */
const ownFields: ReadonlySet<string> = new Set(['model', 'messages', 'stream', '__proto__'])

/**
 * The model families whose Chat Completions API rejects `max_tokens` and
 * takes `max_completion_tokens`: OpenAI's reasoning models (`o1`, `o3`,
 * `o4-mini`, …), `gpt-5` and later, `codex-mini`.
 */
const maxCompletionTokensFamily = /^(?:o\d|gpt-(?:[5-9]|\d{2,})(?:\D|$)|codex-)/i

/**
 * Whether `model` (without provider prefix) takes `max_completion_tokens`
 * instead of `max_tokens`: `o1`, `o3-mini`, `o4-mini`, `gpt-5`, `gpt-5.1`…
 * but not `gpt-4o` or models of compatible servers.
 */
export function usesMaxCompletionTokens(model: string): boolean {
  return maxCompletionTokensFamily.test(model)
}

/**
 * The OpenAI Chat Completions request (`POST /chat/completions`) of one
 * attempt. Builds fresh values and never writes `request`; nested values the
 * caller gave (tool schemas, provider options) are referenced, not copied,
 * since nothing downstream writes them.
 *
 * Maps messages (system, user text and images, assistant text and tool
 * calls, tool results), `tools` and `toolChoice`, `responseFormat`,
 * `temperature`, `topP`, `topK` (see `topK`), `maxTokens` (see
 * `maxTokensField`), `stop`, `seed` and `user`; then merges `providerOptions.openai` and the provider's own
 * entry over them.
 *
 * @throws UnderstudyError kind `invalid_request` for an image given as bytes
 * whose media type is neither given nor recognisable; kind `unsupported`
 * for `topK` unless `options.topK` is `'top_k'`.
 */
export function buildOpenAIRequest(
  request: ChatRequest,
  options: OpenAIRequestOptions,
): HttpRequestSpec {
  const messages = request.messages.map(toOpenAIMessage)
  if (options.assistantPrefix === true) {
    const last = messages[messages.length - 1]
    if (last?.role === 'assistant' && last.tool_calls === undefined) last.prefix = true
  }
  const body: Body = { model: request.model, messages }
  const tools = request.tools
  if (tools !== undefined && tools.length > 0) {
    body.tools = tools.map(toOpenAITool)
    // A tool choice without tools is rejected by OpenAI; without tools there is nothing to choose.
    if (request.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(request.toolChoice)
  }
  if (request.responseFormat !== undefined) {
    body.response_format = toOpenAIResponseFormat(request.responseFormat)
  }
  if (request.temperature !== undefined) body.temperature = request.temperature
  if (request.topP !== undefined) body.top_p = request.topP
  if (request.topK !== undefined) {
    if (options.topK !== 'top_k') {
      throw new UnderstudyError({
        kind: 'unsupported',
        message: 'topK: the Chat Completions API of this provider has no top_k',
      })
    }
    body.top_k = request.topK
  }
  if (request.maxTokens !== undefined) {
    const field =
      options.maxTokensField ??
      (usesMaxCompletionTokens(request.model) ? 'max_completion_tokens' : 'max_tokens')
    body[field] = request.maxTokens
  }
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop
  if (request.seed !== undefined) body.seed = request.seed
  if (request.user !== undefined) body.user = request.user
  if (options.stream) {
    body.stream = true
    if (options.includeUsage) body.stream_options = { include_usage: true }
  }
  const providerOptions = request.providerOptions
  if (providerOptions !== undefined) {
    const providerId = options.providerId ?? 'openai'
    mergeOptions(body, providerOptions.openai)
    if (providerId !== 'openai') mergeOptions(body, providerOptions[providerId])
  }
  return { path: '/chat/completions', body }
}

function mergeOptions(body: Body, options: Readonly<Record<string, unknown>> | undefined): void {
  if (options === undefined) return
  for (const [key, value] of Object.entries(options)) {
    if (!ownFields.has(key)) body[key] = value
  }
}

function toOpenAIMessage(message: Message): Body {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content }
    case 'user':
      return {
        role: 'user',
        content:
          typeof message.content === 'string' ? message.content : message.content.map(toOpenAIPart),
      }
    case 'assistant': {
      const calls = message.toolCalls
      if (calls === undefined || calls.length === 0) {
        return { role: 'assistant', content: message.content }
      }
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      }
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
    default:
      return message satisfies never
  }
}

function toOpenAIPart(part: TextPart | ImagePart): Body {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text }
    case 'image':
      return { type: 'image_url', image_url: { url: imageUrlOf(part) } }
    default:
      return part satisfies never
  }
}

/** A URL (`https:` or `data:`) as given; bytes as a base64 `data:` URL of their media type. */
function imageUrlOf(part: ImagePart): string {
  if (typeof part.image === 'string') return part.image
  const bytes = part.image
  const mediaType = part.mediaType ?? sniffImageType(bytes)
  if (mediaType === undefined) {
    throw new UnderstudyError({
      kind: 'invalid_request',
      message: 'an image given as bytes needs a mediaType (image/png, image/jpeg, …)',
    })
  }
  return `data:${mediaType};base64,${toBase64(bytes)}`
}

function toOpenAITool(tool: Tool): Body {
  const fn: Body = { name: tool.name }
  if (tool.description !== undefined) fn.description = tool.description
  fn.parameters = tool.parameters
  return { type: 'function', function: fn }
}

function toOpenAIToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } }
}

function toOpenAIResponseFormat(format: ResponseFormat): Body {
  switch (format.type) {
    case 'text':
      return { type: 'text' }
    case 'json':
      return { type: 'json_object' }
    case 'json_schema': {
      const schema: Body = { name: format.name, schema: format.schema }
      if (format.strict !== undefined) schema.strict = format.strict
      return { type: 'json_schema', json_schema: schema }
    }
    default:
      return format satisfies never
  }
}
