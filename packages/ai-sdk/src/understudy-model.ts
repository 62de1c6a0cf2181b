import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider'
import {
  type CallOptions,
  type ChatResponse,
  type Client,
  ConfigError,
  isUnderstudyError,
  type StreamEvent,
} from '@understudy/core'
import { toAISDKFinishReason } from './finish-reason.js'
import { providerStateMetadata } from './provider-state.js'
import { toAPICallError } from './to-api-call-error.js'
import { toChatRequest } from './to-chat-request.js'
import { toStreamParts } from './to-stream-parts.js'
import { traceOf } from './understudy-trace.js'
import { toAISDKUsage } from './usage.js'

/**
 * What {@link understudyModel} takes: the primary target and Understudy's call
 * options (`fallbacks`, `retries`, `timeoutMs`, `firstTokenTimeoutMs`, …),
 * applied to every call of the model. The abort signal comes from the AI
 * SDK's own `abortSignal`.
 */
export interface UnderstudyModelOptions extends Omit<CallOptions, 'signal'> {
  /** The primary target, `"provider/model"`: `"openai/gpt-4o"`. */
  readonly model: string
}

/**
 * An Understudy chain as an AI SDK language model (specification `v3`, which
 * `ai` 6 takes and `ai` 7 still accepts): use it wherever the AI SDK takes a
 * model — `generateText`, `streamText`, `generateObject`, tools.
 *
 * Each call runs `client.complete()` or `client.stream()` with `options`; the
 * model keeps no state between calls, so one instance serves any number of
 * concurrent calls. `providerMetadata.understudy` holds the call's trace
 * ({@link UnderstudyTrace}: the target that served it and every attempt), and
 * `response.modelId` the target that served it.
 *
 * A failed chain rejects with an `APICallError` whose `isRetryable` is false
 * and whose `data` holds the kind and the attempts; pass `maxRetries: 0` to
 * the AI SDK, whose retries would run the whole chain again. A `ConfigError`
 * (bad options, found before any I/O) is thrown as it is. The AI SDK's
 * `headers` go to the primary target only, like Understudy's call-level
 * `headers`.
 *
 * @example
 * const model = understudyModel(client, { model: 'openai/gpt-4o', fallbacks: ['anthropic/claude-sonnet-4-5'] })
 * const { text } = await generateText({ model, prompt: 'Hello', maxRetries: 0 })
 */
export function understudyModel(client: Client, options: UnderstudyModelOptions): LanguageModelV3 {
  if (typeof options?.model !== 'string' || !options.model.includes('/')) {
    throw new ConfigError({
      path: 'model',
      message: `expected a target "provider/model", received ${JSON.stringify(options?.model)}`,
    })
  }
  const { model, ...callOptions } = options
  return new UnderstudyLanguageModel(client, model, callOptions)
}

/**
 * A class rather than an object literal: the AI SDK reads `provider`,
 * `modelId` and `supportedUrls` as plain properties, and the methods keep no
 * per-call state on the instance.
 */
class UnderstudyLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3'
  readonly provider = 'understudy'
  readonly modelId: string
  /** None: the AI SDK downloads URLs itself, so every target of the chain gets the bytes. */
  readonly supportedUrls: Record<string, RegExp[]> = {}
  readonly #client: Client
  readonly #options: Omit<CallOptions, 'signal'>

  constructor(client: Client, model: string, options: Omit<CallOptions, 'signal'>) {
    this.modelId = model
    this.#client = client
    this.#options = options
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const { request, warnings } = toChatRequest(this.modelId, options)
    let response: ChatResponse
    try {
      response = await this.#client.complete(request, this.#callOptions(options))
    } catch (error) {
      throw toAISDKError(error, this.modelId)
    }
    return {
      content: toContent(response),
      finishReason: toAISDKFinishReason(response.finishReason),
      usage: toAISDKUsage(response.usage),
      providerMetadata: { understudy: traceOf(response) },
      response: {
        modelId: response.target,
        ...(response.requestId !== undefined && { id: response.requestId }),
      },
      warnings,
    }
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { request, warnings } = toChatRequest(this.modelId, options)
    const stream = this.#client.stream(request, this.#callOptions(options))
    const iterator = stream[Symbol.asyncIterator]()
    let first: IteratorResult<StreamEvent>
    try {
      // The commit point: nothing is returned before the winning attempt's
      // first content, so every failure before it is the chain's to handle.
      first = await iterator.next()
    } catch (error) {
      throw toAISDKError(error, this.modelId)
    }
    return { stream: toStreamParts({ iterator, first, stream, warnings, primary: this.modelId }) }
  }

  #callOptions(options: LanguageModelV3CallOptions): CallOptions {
    const headers = mergeHeaders(this.#options.headers, options.headers)
    return {
      ...this.#options,
      ...(options.abortSignal !== undefined && { signal: options.abortSignal }),
      ...(headers !== undefined && { headers }),
    }
  }
}

/** The model's headers, then the call's (which win); `undefined` values dropped. */
function mergeHeaders(
  own: Readonly<Record<string, string>> | undefined,
  call: Record<string, string | undefined> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (call === undefined) return own
  const merged: Record<string, string> = { ...own }
  for (const [name, value] of Object.entries(call)) {
    if (value !== undefined) merged[name] = value
  }
  return merged
}

/**
 * The winning response as the spec's content: reasoning, text, then tool
 * calls, each carrying the answer's `providerState` for the next step.
 */
function toContent(response: ChatResponse): LanguageModelV3Content[] {
  const content: LanguageModelV3Content[] = []
  const providerMetadata = providerStateMetadata(response.message.providerState)
  const state = providerMetadata === undefined ? {} : { providerMetadata }
  if (response.reasoning !== undefined && response.reasoning !== '') {
    content.push({ type: 'reasoning', text: response.reasoning, ...state })
  }
  if (response.text !== '') content.push({ type: 'text', text: response.text, ...state })
  for (const call of response.toolCalls) {
    content.push({
      type: 'tool-call',
      toolCallId: call.id,
      toolName: call.name,
      input: call.arguments,
      ...state,
    })
  }
  return content
}

/**
 * A chain's failure as the AI SDK sees it: an `APICallError` it will not
 * retry; a `ConfigError` (the caller's bug, before any I/O) and anything that
 * is not Understudy's stay as they are.
 */
export function toAISDKError(error: unknown, primary: string): unknown {
  if (!isUnderstudyError(error) || error.kind === 'config') return error
  return toAPICallError(error, primary)
}
