import {
  type AssistantMessage,
  type ChatRequest,
  type ImagePart,
  type JsonValue,
  replayableState,
  type TextPart,
  type Tool,
  type ToolChoice,
  UnderstudyError,
} from '@understudy/core'
import { type HttpRequestSpec, sniffImageType, toBase64 } from '@understudy/provider-kit'
import { readSignatures, skipSignature } from './gemini-state.js'

/** How {@link buildGeminiRequest} shapes the request of one attempt. */
export interface GeminiRequestOptions {
  /** Ask for a streamed answer (`:streamGenerateContent?alt=sse`). */
  readonly stream: boolean
  /**
   * The `stateOrigin()` of this attempt: an assistant turn's thought
   * signatures are sent back only when its `providerState.origin` is this.
   */
  readonly origin: string
  /**
   * The id of the provider the request goes to, whose `providerOptions`
   * entry is merged into the body.
   * @default 'google'
   */
  readonly providerId?: string
}

/** Gemini takes at most this many stop sequences (`generationConfig.stopSequences`). */
const maxStopSequences = 5

/** A body or a part of one under construction: fresh objects per attempt. */
type Body = Record<string, unknown>

/** One `contents[]` entry. */
interface Content {
  role: 'user' | 'model'
  parts: Body[]
}

/**
 * Keys provider options cannot set: what the adapter owns, and `__proto__`,
 * which would replace the body's prototype instead of adding a field.
 */
const ownFields: ReadonlySet<string> = new Set(['contents', '__proto__'])

/**
 * The Gemini request (`POST /models/{model}:generateContent`, or
 * `:streamGenerateContent?alt=sse`) of one attempt. Builds fresh values and
 * never writes `request`; tool schemas and provider options are referenced.
 *
 * - Leading system messages → `systemInstruction`; user → `user`, assistant
 *   → `model`, tool results → `functionResponse` parts of a `user` turn (the
 *   name read from the call they answer, the content as `{ output }`);
 *   consecutive turns of one role are merged into one.
 * - Images: bytes and `data:` URLs → `inlineData`, other URLs → `fileData`.
 * - Assistant tool calls → `functionCall` parts, their JSON arguments as `args`.
 *   Thought signatures go back only to the origin that wrote them
 *   (`replayableState`); a turn from anywhere else has them dropped, and its
 *   first call carries Google's documented `skip_thought_signature_validator`
 *   instead, so Gemini 3 does not reject history it did not sign.
 * - `tools` → `functionDeclarations` with `parametersJsonSchema` (the JSON
 *   Schema as given, no conversion); `toolChoice` → `functionCallingConfig`
 *   `AUTO` / `NONE` / `ANY` (+ `allowedFunctionNames` for one tool).
 * - `temperature`, `topP`, `topK`, `maxTokens` (`maxOutputTokens`), `stop`
 *   (`stopSequences`), `seed` and `responseFormat` (`responseMimeType`,
 *   `responseJsonSchema`) → `generationConfig`.
 * - `providerOptions.google` (and the provider's own entry) is merged last;
 *   its `generationConfig` is merged into the one built here
 *   (`{ generationConfig: { thinkingConfig: { includeThoughts: true } } }`).
 *
 * @throws UnderstudyError kind `unsupported`, before any I/O, naming what
 * Gemini cannot express: `user`; system messages alone, or one after the
 * conversation started; more than five `stop` sequences; a `data:` URL that is not
 * base64; tool-call arguments in the history that are not a JSON object.
 * Kind `invalid_request` for a tool result that answers no earlier call,
 * and for image bytes of unknown type.
 */
export function buildGeminiRequest(
  request: ChatRequest,
  options: GeminiRequestOptions,
): HttpRequestSpec {
  if (request.user !== undefined) {
    throw unsupported(
      'user: Gemini has no end-user id field (unset it for this target: unset: ["user"])',
    )
  }
  const body: Body = {}
  const system: Body[] = []
  const contents: Content[] = []
  const callNames = new Map<string, string>()
  const messages = request.messages
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as (typeof messages)[number]
    switch (message.role) {
      case 'system':
        if (contents.length > 0) {
          throw unsupported(
            `messages[${index}]: Gemini takes system messages only before the conversation (as systemInstruction)`,
          )
        }
        system.push({ text: message.content })
        break
      case 'user':
        push(contents, 'user', userParts(message.content, index))
        break
      case 'assistant':
        push(contents, 'model', modelParts(message, index, options.origin, callNames))
        break
      case 'tool': {
        const name = callNames.get(message.toolCallId)
        if (name === undefined) {
          throw new UnderstudyError({
            kind: 'invalid_request',
            message: `messages[${index}].toolCallId: "${message.toolCallId}" answers no earlier tool call`,
          })
        }
        push(contents, 'user', [
          { functionResponse: { name, response: { output: message.content } } },
        ])
        break
      }
      default:
        message satisfies never
    }
  }
  if (contents.length === 0) {
    throw unsupported('messages: Gemini needs a user or assistant message besides system messages')
  }
  if (system.length > 0) body.systemInstruction = { parts: system }
  body.contents = contents
  const tools = request.tools
  if (tools !== undefined && tools.length > 0) {
    body.tools = [{ functionDeclarations: tools.map(toDeclaration) }]
    if (request.toolChoice !== undefined) {
      body.toolConfig = { functionCallingConfig: toCallingConfig(request.toolChoice) }
    }
  }
  const config = generationConfig(request)
  const providerOptions = request.providerOptions
  if (providerOptions !== undefined) {
    const providerId = options.providerId ?? 'google'
    mergeOptions(body, config, providerOptions.google)
    if (providerId !== 'google') mergeOptions(body, config, providerOptions[providerId])
  }
  if (Object.keys(config).length > 0) body.generationConfig = config
  const method = options.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'
  return { path: `/${modelPath(request.model)}:${method}`, body }
}

/** `models/gemini-2.5-flash`; a model that names its collection (`tunedModels/x`) is kept. */
function modelPath(model: string): string {
  let path = modelPaths.get(model)
  if (path === undefined) {
    const named = model.includes('/') ? model : `models/${model}`
    path = named.split('/').map(encodeURIComponent).join('/')
    if (modelPaths.size >= maxModelPaths) modelPaths.clear()
    modelPaths.set(model, path)
  }
  return path
}

/**
 * Model paths already encoded. A provider names a handful of models, and
 * splitting, encoding and joining one anew cost more per call than the
 * engine's whole plan (a profile of the call row, Node 24); the map starts
 * over past a limit, so ever-new names cost memory for none of them.
 */
const modelPaths = new Map<string, string>()
const maxModelPaths = 256

/** Appends a turn, merged into the last one when it has the same role. */
function push(contents: Content[], role: Content['role'], parts: Body[]): void {
  if (parts.length === 0) return
  const last = contents[contents.length - 1]
  if (last !== undefined && last.role === role) last.parts.push(...parts)
  else contents.push({ role, parts })
}

function userParts(content: string | readonly (TextPart | ImagePart)[], index: number): Body[] {
  if (typeof content === 'string') return [{ text: content }]
  return content.map((part, at): Body => {
    switch (part.type) {
      case 'text':
        return { text: part.text }
      case 'image':
        return imagePart(part, `messages[${index}].content[${at}]`)
      default:
        return part satisfies never
    }
  })
}

function imagePart(part: ImagePart, path: string): Body {
  const image = part.image
  if (typeof image !== 'string') {
    const mimeType = part.mediaType ?? sniffImageType(image)
    if (mimeType === undefined) {
      throw new UnderstudyError({
        kind: 'invalid_request',
        message: `${path}: an image given as bytes needs a mediaType (image/png, image/jpeg, …)`,
      })
    }
    return { inlineData: { mimeType, data: toBase64(image) } }
  }
  if (image.startsWith('data:')) {
    const match = /^data:([^;,]+)((?:;[^;,]*)*);base64,(.*)$/s.exec(image)
    if (match === null) throw unsupported(`${path}: Gemini takes data: URLs only base64-encoded`)
    return { inlineData: { mimeType: part.mediaType ?? match[1], data: match[3] } }
  }
  const fileData: Body = {}
  const mimeType = part.mediaType ?? mimeTypeOfURL(image)
  if (mimeType !== undefined) fileData.mimeType = mimeType
  fileData.fileUri = image
  return { fileData }
}

/** The image type a URL's extension names, for `fileData` given without a `mediaType`. */
function mimeTypeOfURL(url: string): string | undefined {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase()
  switch (extension) {
    case 'png':
      return 'image/png'
    case 'jpg':
    case 'jpeg':
      return 'image/jpeg'
    case 'webp':
      return 'image/webp'
    case 'gif':
      return 'image/gif'
    case 'heic':
      return 'image/heic'
    case 'heif':
      return 'image/heif'
    default:
      return undefined
  }
}

/** A model turn: signed thoughts, text, function calls; records each call's name by id. */
function modelParts(
  message: AssistantMessage,
  index: number,
  origin: string,
  callNames: Map<string, string>,
): Body[] {
  const signatures = readSignatures(replayableState(message.providerState, origin))
  const parts: Body[] = []
  for (const thought of signatures?.thoughts ?? []) {
    parts.push({ text: thought.text, thought: true, thoughtSignature: thought.signature })
  }
  if (message.content !== '') {
    const text: Body = { text: message.content }
    if (signatures?.text !== undefined) text.thoughtSignature = signatures.text
    parts.push(text)
  }
  const calls = message.toolCalls ?? []
  for (let at = 0; at < calls.length; at++) {
    const call = calls[at] as (typeof calls)[number]
    callNames.set(call.id, call.name)
    const part: Body = {
      functionCall: { name: call.name, args: argsOf(call.arguments, index, at) },
    }
    const signature = signatures?.calls[at] ?? (at === 0 ? skipSignature : null)
    if (signature !== null) part.thoughtSignature = signature
    parts.push(part)
  }
  return parts
}

/** A tool call's JSON arguments as the object Gemini's `args` must be. */
function argsOf(text: string, index: number, at: number): JsonValue {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw unsupported(
      `messages[${index}].toolCalls[${at}].arguments: Gemini takes function-call arguments only as a JSON object`,
    )
  }
  return value as JsonValue
}

function toDeclaration(tool: Tool): Body {
  const declaration: Body = { name: tool.name }
  if (tool.description !== undefined) declaration.description = tool.description
  declaration.parametersJsonSchema = tool.parameters
  return declaration
}

function toCallingConfig(choice: ToolChoice): Body {
  switch (choice) {
    case 'auto':
      return { mode: 'AUTO' }
    case 'none':
      return { mode: 'NONE' }
    case 'required':
      return { mode: 'ANY' }
    default:
      return { mode: 'ANY', allowedFunctionNames: [choice.name] }
  }
}

function generationConfig(request: ChatRequest): Body {
  const config: Body = {}
  if (request.temperature !== undefined) config.temperature = request.temperature
  if (request.topP !== undefined) config.topP = request.topP
  if (request.topK !== undefined) config.topK = request.topK
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens
  const stop = request.stop
  if (stop !== undefined && stop.length > 0) {
    if (stop.length > maxStopSequences) {
      throw unsupported(
        `stop: Gemini takes at most ${maxStopSequences} stop sequences, not ${stop.length}`,
      )
    }
    config.stopSequences = stop
  }
  if (request.seed !== undefined) config.seed = request.seed
  const format = request.responseFormat
  if (format !== undefined) {
    switch (format.type) {
      case 'text':
        config.responseMimeType = 'text/plain'
        break
      case 'json':
        config.responseMimeType = 'application/json'
        break
      case 'json_schema':
        // Gemini always holds the answer to the schema: `strict` has nothing to switch.
        config.responseMimeType = 'application/json'
        config.responseJsonSchema = format.schema
        break
      default:
        format satisfies never
    }
  }
  return config
}

/** Provider options over the body; their `generationConfig` over the one built here. */
function mergeOptions(
  body: Body,
  config: Body,
  options: Readonly<Record<string, unknown>> | undefined,
): void {
  if (options === undefined) return
  for (const [key, value] of Object.entries(options)) {
    if (ownFields.has(key)) continue
    if (key === 'generationConfig' && isRecord(value)) {
      for (const [name, setting] of Object.entries(value)) {
        if (name !== '__proto__') config[name] = setting
      }
    } else body[key] = value
  }
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function unsupported(message: string): UnderstudyError {
  return new UnderstudyError({ kind: 'unsupported', message })
}
