import {
  type LanguageModelV3CallOptions,
  type LanguageModelV3FilePart,
  type LanguageModelV3Prompt,
  type LanguageModelV3ToolResultOutput,
  type SharedV3Warning,
  UnsupportedFunctionalityError,
} from '@ai-sdk/provider'
import type {
  ChatParams,
  ChatRequest,
  ImagePart,
  JsonValue,
  Message,
  TextPart,
  Tool,
  ToolCall,
  ToolChoice,
} from '@understudy/core'
import { readProviderState } from './provider-state.js'

/** An AI SDK call as Understudy's request, and what of it could not be expressed. */
export interface ConvertedCall {
  readonly request: ChatRequest
  readonly warnings: SharedV3Warning[]
}

type JsonObject = { readonly [key: string]: JsonValue }

/**
 * The AI SDK's call options (spec V3) as a `ChatRequest` for `model`. Settings
 * Understudy's request has no field for (`presencePenalty`, provider-defined
 * tools) become warnings, as an AI SDK provider reports them; content it cannot
 * carry at all (a file that is not an image) is an `UnsupportedFunctionalityError`.
 */
export function toChatRequest(model: string, options: LanguageModelV3CallOptions): ConvertedCall {
  const warnings: SharedV3Warning[] = []
  const params: { -readonly [K in keyof ChatParams]: ChatParams[K] } = {}
  if (options.maxOutputTokens !== undefined) params.maxTokens = options.maxOutputTokens
  if (options.temperature !== undefined) params.temperature = options.temperature
  if (options.topP !== undefined) params.topP = options.topP
  if (options.topK !== undefined) params.topK = options.topK
  if (options.seed !== undefined) params.seed = options.seed
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) {
    params.stop = [...options.stopSequences]
  }
  if (options.presencePenalty !== undefined) {
    warnings.push({ type: 'unsupported', feature: 'presencePenalty' })
  }
  if (options.frequencyPenalty !== undefined) {
    warnings.push({ type: 'unsupported', feature: 'frequencyPenalty' })
  }
  const format = options.responseFormat
  if (format?.type === 'json') {
    params.responseFormat =
      format.schema === undefined
        ? { type: 'json' }
        : {
            type: 'json_schema',
            name: format.name ?? 'response',
            schema: asJsonObject(format.schema),
          }
  }
  const tools: Tool[] = []
  for (const tool of options.tools ?? []) {
    if (tool.type === 'function') {
      tools.push({
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        parameters: asJsonObject(tool.inputSchema),
      })
    } else {
      warnings.push({ type: 'unsupported', feature: `provider-defined tool ${tool.id}` })
    }
  }
  if (tools.length > 0) params.tools = tools
  const choice = toToolChoice(options.toolChoice)
  if (choice !== undefined && tools.length > 0) params.toolChoice = choice
  if (options.providerOptions !== undefined) {
    params.providerOptions = asJsonObject(options.providerOptions) as NonNullable<
      ChatParams['providerOptions']
    >
  }
  return { request: { model, messages: toMessages(options.prompt), ...params }, warnings }
}

function toToolChoice(choice: LanguageModelV3CallOptions['toolChoice']): ToolChoice | undefined {
  if (choice === undefined) return undefined
  switch (choice.type) {
    case 'auto':
    case 'none':
    case 'required':
      return choice.type
    case 'tool':
      return { name: choice.toolName }
    default:
      return choice satisfies never
  }
}

/** The prompt as Understudy's messages; a tool message per tool result. */
export function toMessages(prompt: LanguageModelV3Prompt): Message[] {
  const messages: Message[] = []
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        messages.push({ role: 'system', content: message.content })
        break
      case 'user': {
        const parts: (TextPart | ImagePart)[] = []
        for (const part of message.content) {
          parts.push(part.type === 'text' ? { type: 'text', text: part.text } : toImagePart(part))
        }
        const only = parts[0]
        messages.push({
          role: 'user',
          content: parts.length === 1 && only?.type === 'text' ? only.text : parts,
        })
        break
      }
      case 'assistant': {
        let text = ''
        const toolCalls: ToolCall[] = []
        for (const part of message.content) {
          if (part.type === 'text') text += part.text
          else if (part.type === 'tool-call' && part.providerExecuted !== true) {
            toolCalls.push({
              id: part.toolCallId,
              name: part.toolName,
              arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input),
            })
          } else if (part.type === 'file') {
            throw new UnsupportedFunctionalityError({
              functionality: 'files in assistant messages',
            })
          }
          // Reasoning and provider-executed tool results are the model's own
          // record; Understudy's history has no place for them.
        }
        const providerState = readProviderState(message.content)
        messages.push({
          role: 'assistant',
          content: text,
          ...(toolCalls.length > 0 && { toolCalls }),
          ...(providerState !== undefined && { providerState }),
        })
        break
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type !== 'tool-result') continue
          messages.push({
            role: 'tool',
            toolCallId: part.toolCallId,
            content: toolResultText(part.output),
          })
        }
        break
      default:
        message satisfies never
    }
  }
  return messages
}

function toImagePart(part: LanguageModelV3FilePart): ImagePart {
  if (!part.mediaType.startsWith('image/')) {
    throw new UnsupportedFunctionalityError({
      functionality: `file parts of type ${part.mediaType} (Understudy carries images only)`,
    })
  }
  const { data } = part
  const mediaType = part.mediaType === 'image/*' ? undefined : part.mediaType
  if (data instanceof Uint8Array) {
    return { type: 'image', image: data, ...(mediaType !== undefined && { mediaType }) }
  }
  if (data instanceof URL) return { type: 'image', image: data.href }
  // A string is base64 (the spec's choice), unless it already is a URL.
  if (/^(https?|data):/i.test(data)) return { type: 'image', image: data }
  return { type: 'image', image: `data:${mediaType ?? 'image/png'};base64,${data}` }
}

/** What a tool returned, as the text of Understudy's tool message. */
function toolResultText(output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value)
    case 'execution-denied':
      return output.reason ?? 'The tool call was denied.'
    case 'content':
      return output.value.map((part) => (part.type === 'text' ? part.text : '')).join('')
    default:
      return output satisfies never
  }
}

/**
 * JSON Schemas and provider options are JSON by the spec's own types; this
 * states it for Understudy's `JsonValue` (the spec's types admit `undefined`).
 */
function asJsonObject(value: object): JsonObject {
  return value as JsonObject
}
