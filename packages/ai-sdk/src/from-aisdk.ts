import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Message,
  SharedV3ProviderMetadata,
} from '@ai-sdk/provider'
import {
  type ChatRequest,
  ConfigError,
  type JsonValue,
  type Provider,
  type ProviderContext,
  type ProviderResponse,
  type ProviderStreamEvent,
  type ToolCall,
  UnderstudyError,
} from '@understudy/core'
import { classifyAISDKError } from './classify-aisdk-error.js'
import { fromAISDKFinishReason } from './finish-reason.js'
import { mergeMetadata, type ReplayPart, replayState } from './replay-parts.js'
import { toCallOptions } from './to-call-options.js'
import { fromAISDKUsage } from './usage.js'

/** An AI SDK language model: spec V3 (`ai` 6's providers) or V4 (`ai` 7's). */
export type AISDKLanguageModel = LanguageModelV3 | LanguageModelV4

/**
 * An AI SDK provider: anything with `languageModel(modelId)` (`createMistral({…})`,
 * `bedrock`, `vertex`), or a plain function from a model id to a model.
 */
export type AISDKProvider =
  | { languageModel(modelId: string): AISDKLanguageModel }
  | ((modelId: string) => AISDKLanguageModel)

/** A clock for Retry-After dates; the system's by default. */
export interface FromAISDKOptions {
  /** Now, in epoch ms: where an HTTP-date `Retry-After` is measured from. @default Date.now */
  readonly now?: () => number
}

/**
 * An AI SDK provider as an Understudy provider whose targets are
 * `"<id>/<modelId>"`, so any `@ai-sdk/*` vendor joins a chain.
 *
 * One attempt is one `doGenerate` or `doStream` of the model (an AI SDK
 * model does not retry; `generateText` does, and is not involved). Its
 * `APICallError`s are classified from `statusCode`, `responseHeaders`
 * (`Retry-After`) and the body's error code; an `error` part before the
 * first content fails the attempt like an in-band error, so the chain falls
 * back. The attempt's abort reaches the model as its `abortSignal`.
 *
 * The model carries its own credentials: a target of this provider with its
 * own `apiKey` or `baseURL` is a `config` error (make another provider with
 * them instead); its `headers` are sent.
 *
 * @example
 * const client = createClient({ providers: [openai(), fromAISDK('mistral', createMistral({ apiKey }))] })
 * await client.complete({ model: 'openai/gpt-4o', messages }, { fallbacks: ['mistral/mistral-large-latest'] })
 */
export function fromAISDK(
  id: string,
  provider: AISDKProvider,
  options: FromAISDKOptions = {},
): Provider {
  if (typeof id !== 'string' || id === '' || id.includes('/')) {
    throw new ConfigError({
      path: 'id',
      message: `expected a provider id without "/", received ${JSON.stringify(id)}`,
    })
  }
  const languageModel = resolverOf(provider)
  const now = options.now ?? Date.now
  const models = new Map<string, AISDKLanguageModel>()
  /** One model per id, made once: AI SDK models are immutable settings. */
  const modelFor = (modelId: string): AISDKLanguageModel => {
    let model = models.get(modelId)
    if (model === undefined) {
      model = languageModel(modelId)
      checkModel(id, modelId, model)
      models.set(modelId, model)
    }
    return model
  }
  const prepare = (request: ChatRequest, context: ProviderContext): Prepared => {
    const origin = { provider: id, model: request.model }
    if (context.apiKey !== undefined || context.baseURL !== undefined) {
      throw new UnderstudyError({
        kind: 'config',
        message: `${id}/${request.model}: an AI SDK model brings its own key and base URL; a target of fromAISDK('${id}') cannot set apiKey or baseURL (make another provider with them)`,
        provider: id,
        model: request.model,
      })
    }
    const model = modelFor(request.model)
    const v3 = toCallOptions(request, origin)
    v3.abortSignal = context.signal
    if (context.headers !== undefined) v3.headers = { ...context.headers }
    return { model, options: v3, origin }
  }
  return {
    id,
    async complete(request, context) {
      const { model, options: callOptions, origin } = prepare(request, context)
      let content: readonly LanguageModelV3Content[]
      let result: { finishReason: { unified: string }; usage: LanguageModelV3Usage | undefined }
      try {
        const generated =
          model.specificationVersion === 'v4'
            ? await model.doGenerate(toV4(callOptions))
            : await model.doGenerate(callOptions)
        // V4's extra content kinds (custom, reasoning files) carry nothing Understudy reads.
        content = generated.content as readonly LanguageModelV3Content[]
        result = { finishReason: generated.finishReason, usage: generated.usage }
      } catch (error) {
        throw classifyAISDKError(error, origin, now())
      }
      return toResponse(content, result.finishReason.unified, result.usage, origin)
    },
    stream(request, context) {
      return streamAttempt(prepare, request, context, now)
    },
  }
}

interface Prepared {
  readonly model: AISDKLanguageModel
  readonly options: LanguageModelV3CallOptions
  readonly origin: { readonly provider: string; readonly model: string }
}

function resolverOf(provider: AISDKProvider): (modelId: string) => AISDKLanguageModel {
  if (typeof provider === 'function') return provider
  if (typeof provider === 'object' && provider !== null) {
    const languageModel: unknown = Reflect.get(provider, 'languageModel')
    if (typeof languageModel === 'function') {
      return (modelId) => provider.languageModel(modelId)
    }
  }
  throw new ConfigError({
    path: 'provider',
    message:
      'expected an AI SDK provider (with languageModel(modelId)) or a function from a model id to a model',
  })
}

function checkModel(id: string, modelId: string, model: AISDKLanguageModel): void {
  const version: unknown =
    typeof model === 'object' && model !== null
      ? Reflect.get(model, 'specificationVersion')
      : undefined
  if (version !== 'v3' && version !== 'v4') {
    throw new UnderstudyError({
      kind: 'unsupported',
      message: `${id}/${modelId}: an AI SDK model of specification ${JSON.stringify(version)}; fromAISDK takes v3 and v4 models`,
      provider: id,
      model: modelId,
    })
  }
}

/** The same call for a V4 model: files name what their data is. */
function toV4(options: LanguageModelV3CallOptions): LanguageModelV4CallOptions {
  const prompt = options.prompt.map((message): LanguageModelV4Message => {
    if (message.role === 'system') return message
    // V3's tool outputs are V4's but for content parts Understudy never writes (text only).
    if (message.role === 'tool') return message as LanguageModelV4Message
    if (message.role === 'user') {
      return {
        ...message,
        content: message.content.map((part) =>
          part.type === 'file'
            ? {
                ...part,
                data:
                  part.data instanceof URL
                    ? { type: 'url' as const, url: part.data }
                    : { type: 'data' as const, data: part.data },
              }
            : part,
        ),
      }
    }
    // Understudy's assistant turns hold text and tool calls only (see toCallOptions).
    return {
      ...message,
      content: message.content.filter((part) => part.type !== 'file'),
    } as LanguageModelV4Message
  })
  return { ...options, prompt } as LanguageModelV4CallOptions
}

function toResponse(
  content: readonly LanguageModelV3Content[],
  unified: string,
  usage: LanguageModelV3Usage | undefined,
  origin: { readonly provider: string; readonly model: string },
): ProviderResponse {
  let text = ''
  let reasoning = ''
  const toolCalls: ToolCall[] = []
  const parts: ReplayPart[] = []
  for (const part of content) {
    const options =
      part.providerMetadata === undefined ? {} : { providerOptions: part.providerMetadata }
    if (part.type === 'text') {
      text += part.text
      parts.push({ type: 'text', text: part.text, ...options })
    } else if (part.type === 'reasoning') {
      reasoning += part.text
      parts.push({ type: 'reasoning', text: part.text, ...options })
    } else if (part.type === 'tool-call' && part.providerExecuted !== true) {
      toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input })
      parts.push({
        type: 'tool-call',
        toolCallId: part.toolCallId,
        toolName: part.toolName,
        input: parseInput(part.input),
        ...options,
      })
    }
  }
  const providerState = replayState(origin.provider, origin.model, parts)
  return {
    text,
    message: {
      role: 'assistant',
      content: text,
      ...(toolCalls.length > 0 && { toolCalls }),
      ...(providerState !== undefined && { providerState }),
    },
    toolCalls,
    ...(reasoning !== '' && { reasoning }),
    finishReason: fromAISDKFinishReason(unified),
    usage: fromAISDKUsage(usage),
  }
}

/**
 * One streamed attempt: the model's parts as Understudy's events. An `error`
 * part ends the attempt with its classified error — before the first content
 * the chain falls back, after it the stream is interrupted. Leaving early
 * cancels the model's stream (and its connection).
 */
async function* streamAttempt(
  prepare: (request: ChatRequest, context: ProviderContext) => Prepared,
  request: ChatRequest,
  context: ProviderContext,
  now: () => number,
): AsyncGenerator<ProviderStreamEvent> {
  const { model, options, origin } = prepare(request, context)
  let stream: ReadableStream<LanguageModelV3StreamPart>
  try {
    const result =
      model.specificationVersion === 'v4'
        ? await model.doStream(toV4(options))
        : await model.doStream(options)
    // V4's extra parts (ping, custom, reasoning files) are skipped below like V3's unread ones.
    stream = result.stream as ReadableStream<LanguageModelV3StreamPart>
  } catch (error) {
    throw classifyAISDKError(error, origin, now())
  }
  const reader = stream.getReader()
  const indexes = new Map<string, number>()
  // The answer's parts as written, for its providerState (see replay-parts.ts).
  const parts: ReplayPart[] = []
  const blocks = new Map<string, ReplayPart & { readonly type: 'text' | 'reasoning' }>()
  const block = (
    type: 'text' | 'reasoning',
    id: string,
    metadata: SharedV3ProviderMetadata | undefined,
  ) => {
    let open = blocks.get(`${type}:${id}`)
    if (open === undefined) {
      open = { type, text: '' }
      blocks.set(`${type}:${id}`, open)
      parts.push(open)
    }
    const merged = mergeMetadata(open.providerOptions, metadata)
    if (merged !== undefined) open.providerOptions = merged
    return open
  }
  let done = false
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>
      try {
        read = await reader.read()
      } catch (error) {
        throw classifyAISDKError(error, origin, now())
      }
      if (read.done) {
        done = true
        return
      }
      const part = read.value
      switch (part.type) {
        case 'text-start':
        case 'text-end':
          block('text', part.id, part.providerMetadata)
          break
        case 'reasoning-start':
        case 'reasoning-end':
          block('reasoning', part.id, part.providerMetadata)
          break
        case 'text-delta':
          block('text', part.id, part.providerMetadata).text += part.delta
          if (part.delta !== '') yield { type: 'text', text: part.delta }
          break
        case 'reasoning-delta':
          block('reasoning', part.id, part.providerMetadata).text += part.delta
          if (part.delta !== '') yield { type: 'reasoning', text: part.delta }
          break
        case 'tool-input-start': {
          if (part.providerExecuted === true) break
          const index = indexes.size
          indexes.set(part.id, index)
          yield {
            type: 'tool-call-delta',
            index,
            id: part.id,
            name: part.toolName,
            argumentsDelta: '',
          }
          break
        }
        case 'tool-input-delta': {
          const index = indexes.get(part.id)
          if (index !== undefined && part.delta !== '') {
            yield { type: 'tool-call-delta', index, argumentsDelta: part.delta }
          }
          break
        }
        case 'tool-call':
          if (part.providerExecuted === true) break
          parts.push({
            type: 'tool-call',
            toolCallId: part.toolCallId,
            toolName: part.toolName,
            input: parseInput(part.input),
            ...(part.providerMetadata !== undefined && { providerOptions: part.providerMetadata }),
          })
          // A provider that streams no tool input sends the whole call at once.
          if (!indexes.has(part.toolCallId)) {
            const index = indexes.size
            indexes.set(part.toolCallId, index)
            yield {
              type: 'tool-call-delta',
              index,
              id: part.toolCallId,
              name: part.toolName,
              argumentsDelta: part.input,
            }
          }
          break
        case 'finish': {
          const providerState = replayState(origin.provider, origin.model, parts)
          yield {
            type: 'finish',
            finishReason: fromAISDKFinishReason(part.finishReason.unified),
            usage: fromAISDKUsage(part.usage),
            ...(providerState !== undefined && { providerState }),
          }
          break
        }
        case 'error':
          throw classifyAISDKError(part.error, origin, now())
        default:
          // Start, metadata, block boundaries, sources, files, raw chunks:
          // nothing of Understudy's stream.
          break
      }
    }
  } finally {
    if (!done) {
      // Leaving early or failing: the model's stream (and its connection) closes now.
      reader.cancel().catch(() => {})
    }
    reader.releaseLock()
  }
}

/** A tool call's input as JSON, for the replayed turn; kept as text when it is not JSON. */
function parseInput(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return text
  }
}
