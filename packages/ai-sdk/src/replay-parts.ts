import type { JSONObject, LanguageModelV3Message, SharedV3ProviderMetadata } from '@ai-sdk/provider'
import {
  type AssistantMessage,
  type JsonValue,
  type ProviderState,
  replayableState,
  stateOrigin,
} from '@understudy/core'

/** An assistant part as an AI SDK model wrote it, with its metadata as the options to send back. */
export type ReplayPart =
  | {
      readonly type: 'text' | 'reasoning'
      text: string
      providerOptions?: SharedV3ProviderMetadata
    }
  | {
      readonly type: 'tool-call'
      readonly toolCallId: string
      readonly toolName: string
      readonly input: JsonValue
      readonly providerOptions?: SharedV3ProviderMetadata
    }

type AssistantContent = Extract<LanguageModelV3Message, { role: 'assistant' }>['content']

/**
 * Where a `fromAISDK` answer comes from. The model holds its own URL and key,
 * which Understudy never sees, so the provider id stands for them: one
 * client has one provider per id.
 */
export function replayOrigin(provider: string, model: string): string {
  return stateOrigin({ provider, model, baseURL: `aisdk:${provider}`, apiKey: undefined })
}

/**
 * The `providerState` of an AI SDK model's answer: its parts as written, when
 * any carries metadata (Anthropic's reasoning `signature`, Gemini's
 * `thoughtSignature`) that the vendor wants back on the next turn; else none.
 */
export function replayState(
  provider: string,
  model: string,
  parts: readonly ReplayPart[],
): ProviderState | undefined {
  if (!parts.some((part) => part.providerOptions !== undefined)) return undefined
  return {
    provider,
    origin: replayOrigin(provider, model),
    // JSON by construction: text, JSON tool input and the spec's JSON metadata.
    data: { parts: parts as unknown as JsonValue },
  }
}

/**
 * The assistant turn's parts as the model wrote them, when the turn came
 * from this same origin and still says what they say (the same text and tool
 * calls); `undefined` otherwise, and the turn is rebuilt from its text and
 * tool calls.
 */
export function replayParts(
  message: AssistantMessage,
  origin: string,
): AssistantContent | undefined {
  const data = replayableState(message.providerState, origin)
  const parts: unknown =
    typeof data === 'object' && data !== null ? Reflect.get(data, 'parts') : undefined
  if (!Array.isArray(parts)) return undefined
  const content: AssistantContent = []
  let text = ''
  const callIds: string[] = []
  for (const part of parts as unknown[]) {
    if (typeof part !== 'object' || part === null) return undefined
    const type: unknown = Reflect.get(part, 'type')
    const providerOptions = Reflect.get(part, 'providerOptions') as
      | Record<string, JSONObject>
      | undefined
    const options = providerOptions === undefined ? {} : { providerOptions }
    if (type === 'text' || type === 'reasoning') {
      const partText: unknown = Reflect.get(part, 'text')
      if (typeof partText !== 'string') return undefined
      if (type === 'text') text += partText
      content.push({ type, text: partText, ...options })
    } else if (type === 'tool-call') {
      const toolCallId: unknown = Reflect.get(part, 'toolCallId')
      const toolName: unknown = Reflect.get(part, 'toolName')
      if (typeof toolCallId !== 'string' || typeof toolName !== 'string') return undefined
      callIds.push(toolCallId)
      content.push({ type, toolCallId, toolName, input: Reflect.get(part, 'input'), ...options })
    } else {
      return undefined
    }
  }
  const ownIds = (message.toolCalls ?? []).map((call) => call.id)
  if (text !== message.content || ownIds.join('\u0000') !== callIds.join('\u0000')) return undefined
  return content
}

/** Two parts' metadata, per provider key, the later winning. */
export function mergeMetadata(
  earlier: SharedV3ProviderMetadata | undefined,
  later: SharedV3ProviderMetadata | undefined,
): SharedV3ProviderMetadata | undefined {
  if (later === undefined) return earlier
  if (earlier === undefined) return later
  const merged: SharedV3ProviderMetadata = { ...earlier }
  for (const [key, value] of Object.entries(later)) merged[key] = { ...earlier[key], ...value }
  return merged
}
