import type {
  LanguageModelV3CallOptions,
  LanguageModelV3FilePart,
  LanguageModelV3FunctionTool,
  LanguageModelV3Message,
  LanguageModelV3TextPart,
  LanguageModelV3ToolChoice,
  SharedV3ProviderOptions,
} from '@ai-sdk/provider'
import {
  type ChatRequest,
  type ImagePart,
  type ToolChoice,
  UnderstudyError,
} from '@understudy/core'
import { replayOrigin, replayParts } from './replay-parts.js'

/**
 * Understudy's request as the AI SDK's call options (spec V3), for the model
 * `origin` names. `user` has no place in the spec (each vendor takes it in
 * its own `providerOptions`), so a request with it fails this attempt as
 * `unsupported`, before any I/O, and the chain moves on.
 */
export function toCallOptions(
  request: ChatRequest,
  origin: { readonly provider: string; readonly model: string },
): LanguageModelV3CallOptions {
  if (request.user !== undefined) {
    throw new UnderstudyError({
      kind: 'unsupported',
      message: `${origin.provider}/${origin.model}: an AI SDK model takes no \`user\`; pass it in that vendor's providerOptions`,
      provider: origin.provider,
      model: origin.model,
    })
  }
  const options: LanguageModelV3CallOptions = { prompt: toPrompt(request, origin) }
  if (request.maxTokens !== undefined) options.maxOutputTokens = request.maxTokens
  if (request.temperature !== undefined) options.temperature = request.temperature
  if (request.topP !== undefined) options.topP = request.topP
  if (request.topK !== undefined) options.topK = request.topK
  if (request.seed !== undefined) options.seed = request.seed
  if (request.stop !== undefined) options.stopSequences = [...request.stop]
  const format = request.responseFormat
  if (format !== undefined && format.type !== 'text') {
    options.responseFormat =
      format.type === 'json'
        ? { type: 'json' }
        : { type: 'json', name: format.name, schema: structuredClone(format.schema) }
  }
  if (request.tools !== undefined && request.tools.length > 0) {
    options.tools = request.tools.map(
      (tool): LanguageModelV3FunctionTool => ({
        type: 'function',
        name: tool.name,
        ...(tool.description !== undefined && { description: tool.description }),
        inputSchema: structuredClone(tool.parameters),
      }),
    )
    if (request.toolChoice !== undefined) options.toolChoice = toToolChoice(request.toolChoice)
  }
  if (request.providerOptions !== undefined) {
    // A copy: an AI SDK provider may write what it is given; the request is the caller's.
    options.providerOptions = structuredClone(request.providerOptions) as SharedV3ProviderOptions
  }
  return options
}

function toToolChoice(choice: ToolChoice): LanguageModelV3ToolChoice {
  return typeof choice === 'string' ? { type: choice } : { type: 'tool', toolName: choice.name }
}

function toPrompt(
  request: ChatRequest,
  origin: { readonly provider: string; readonly model: string },
): LanguageModelV3Message[] {
  const prompt: LanguageModelV3Message[] = []
  // A tool message names only its call's id; the spec also wants the tool's name.
  const toolNames = new Map<string, string>()
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
        prompt.push({ role: 'system', content: message.content })
        break
      case 'user':
        prompt.push({
          role: 'user',
          content:
            typeof message.content === 'string'
              ? [{ type: 'text', text: message.content }]
              : message.content.map((part): LanguageModelV3TextPart | LanguageModelV3FilePart =>
                  part.type === 'text' ? { type: 'text', text: part.text } : toFilePart(part),
                ),
        })
        break
      case 'assistant': {
        for (const call of message.toolCalls ?? []) toolNames.set(call.id, call.name)
        // The model's own parts (with their signatures) when it wrote this turn.
        const replayed = replayParts(message, replayOrigin(origin.provider, origin.model))
        if (replayed !== undefined) {
          prompt.push({ role: 'assistant', content: replayed })
          break
        }
        const content: Extract<LanguageModelV3Message, { role: 'assistant' }>['content'] = []
        if (message.content !== '') content.push({ type: 'text', text: message.content })
        for (const call of message.toolCalls ?? []) {
          toolNames.set(call.id, call.name)
          content.push({
            type: 'tool-call',
            toolCallId: call.id,
            toolName: call.name,
            input: parseArguments(call.arguments),
          })
        }
        prompt.push({ role: 'assistant', content })
        break
      }
      case 'tool':
        prompt.push({
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: message.toolCallId,
              toolName: toolNames.get(message.toolCallId) ?? '',
              output: { type: 'text', value: message.content },
            },
          ],
        })
        break
      default:
        message satisfies never
    }
  }
  return prompt
}

/** An image as a file part: bytes as they are, a `data:` URL as base64, any other URL as a URL. */
function toFilePart(part: ImagePart): LanguageModelV3FilePart {
  const { image } = part
  if (typeof image !== 'string') {
    return { type: 'file', mediaType: part.mediaType ?? 'image/*', data: image }
  }
  const dataURL = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(image)
  if (dataURL !== null) {
    return {
      type: 'file',
      mediaType: dataURL[1] ?? part.mediaType ?? 'image/*',
      data: dataURL[2] ?? '',
    }
  }
  return { type: 'file', mediaType: part.mediaType ?? 'image/*', data: new URL(image) }
}

/** The arguments the model wrote, parsed; kept as text when they are not JSON. */
function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
