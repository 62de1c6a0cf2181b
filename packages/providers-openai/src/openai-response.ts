import {
  type FinishReason,
  type ProviderResponse,
  type ToolCall,
  UnderstudyError,
} from '@understudy/core'
import type { ResponseInfo } from '@understudy/provider-kit'
import { z } from 'zod'
import { createOpenAIInBandError, isOpenAIErrorBody } from './openai-errors.js'
import { isPlainUsage, openAIUsageSchema, toUsage } from './openai-usage.js'

/**
 * `content` as servers send it: a string, `null` (tool calls only), or —
 * from some compatible servers — a list of parts whose `text` parts make it.
 */
const contentSchema = z
  .union([
    z.string(),
    z.array(z.object({ type: z.string().nullish(), text: z.unknown().optional() })),
  ])
  .nullish()

/** Arguments are JSON text; a few compatible servers send the object itself. */
const argumentsSchema = z.union([z.string(), z.record(z.string(), z.unknown())]).nullish()

const functionSchema = z.object({ name: z.string(), arguments: argumentsSchema })

const messageSchema = z.object({
  content: contentSchema,
  // The reasoning text of compatible servers: `reasoning` (OpenRouter, Groq, vLLM), `reasoning_content` (DeepSeek, older vLLM).
  reasoning: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  tool_calls: z.array(z.object({ id: z.string().nullish(), function: functionSchema })).nullish(),
  // The legacy single function call, answered with `finish_reason: function_call`.
  function_call: functionSchema.nullish(),
})

/**
 * A chat completion body, loose enough for OpenAI-compatible servers: extra
 * fields are ignored, `content` may be `null`, `usage` may be missing, and
 * only the first choice is read (Understudy never asks for `n > 1`).
 */
const chatCompletionSchema = z.object({
  choices: z
    .array(z.object({ message: messageSchema, finish_reason: z.string().nullish() }))
    .min(1),
  usage: openAIUsageSchema,
})

/** A chat completion as the schema gives it back. */
type ChatCompletion = z.output<typeof chatCompletionSchema>

/**
 * The {@link ProviderResponse} of a 200 Chat Completions body: text, tool
 * calls, reasoning, finish reason and usage; with `info`, also the answer's
 * status and request id (so the provider need not copy the response to add them).
 *
 * @throws UnderstudyError classified like an HTTP error when the body is an
 * `{ "error": … }` (compatible servers send some errors with a 200), and kind
 * `server` when it is not a chat completion at all.
 */
export function parseOpenAIResponse(body: unknown, info?: ResponseInfo): ProviderResponse {
  // A plain body is what the schema would give back for it (the property test of `isPlainCompletion`).
  const completion = isPlainCompletion(body) ? (body as ChatCompletion) : parseWithSchema(body)
  return toResponse(completion, info)
}

/**
 * {@link parseOpenAIResponse} with every body through the schema, never the
 * fast check: the reference the fast path is tested against.
 */
export function parseOpenAIResponseWithSchema(
  body: unknown,
  info?: ResponseInfo,
): ProviderResponse {
  return toResponse(parseWithSchema(body), info)
}

/** The body through the schema, the authority on what a completion is and on every error. */
function parseWithSchema(body: unknown): ChatCompletion {
  const parsed = chatCompletionSchema.safeParse(body)
  if (parsed.success) return parsed.data
  if (isOpenAIErrorBody(body)) throw createOpenAIInBandError(body)
  const issue = parsed.error.issues[0]
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
  throw new UnderstudyError({
    kind: 'server',
    message: `the upstream answered 200 with a body that is not a chat completion${where}`,
  })
}

/**
 * Tells, fast, whether `body` is a chat completion of the plain shape
 * OpenAI sends: choices with a message whose `content` is a string or
 * `null`, tool calls with string arguments, usage counts that are numbers.
 * `true` means the schema accepts the body and reads the same values from
 * it (a property test holds the two together), so {@link toResponse} may
 * read the body itself; `false` only means "let the schema decide" (content
 * as a list of parts, arguments as an object, an oddly written usage…).
 *
 * Why not the schema every time: `safeParse` builds a copy of the body and
 * its result on every call, about 3 µs a response in the provider bench,
 * more than the rest of the adapter's work on a call.
 */
export function isPlainCompletion(body: unknown): boolean {
  if (!isRecord(body)) return false
  const choices = body.choices
  if (!Array.isArray(choices) || choices.length === 0) return false
  // The schema checks every choice, though only the first is read.
  for (const choice of choices) {
    if (!isRecord(choice) || !isNullishString(choice.finish_reason)) return false
    if (!isPlainMessage(choice.message)) return false
  }
  return isPlainUsage(body.usage)
}

function isPlainMessage(message: unknown): boolean {
  if (!isRecord(message)) return false
  if (!isNullishString(message.content)) return false
  if (!isNullishString(message.reasoning) || !isNullishString(message.reasoning_content)) {
    return false
  }
  const calls = message.tool_calls
  if (calls !== undefined && calls !== null) {
    if (!Array.isArray(calls)) return false
    for (const call of calls) {
      if (!isRecord(call) || !isNullishString(call.id) || !isPlainFunction(call.function)) {
        return false
      }
    }
  }
  const legacy = message.function_call
  return legacy === undefined || legacy === null || isPlainFunction(legacy)
}

function isPlainFunction(fn: unknown): boolean {
  return isRecord(fn) && typeof fn.name === 'string' && isNullishString(fn.arguments)
}

function isNullishString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string'
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function toResponse(completion: ChatCompletion, info: ResponseInfo | undefined): ProviderResponse {
  // The schema's `.min(1)` (and the fast check) make the first choice exist.
  const choice = completion.choices[0] as ChatCompletion['choices'][number]
  const message = choice.message
  const text = textOf(message.content)
  const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    name: call.function.name,
    arguments: argumentsOf(call.function.arguments),
  }))
  if (message.function_call !== undefined && message.function_call !== null) {
    const call = message.function_call
    toolCalls.push({ id: 'call_0', name: call.name, arguments: argumentsOf(call.arguments) })
  }
  const response: { -readonly [K in keyof ProviderResponse]: ProviderResponse[K] } = {
    text,
    message:
      toolCalls.length > 0
        ? { role: 'assistant', content: text, toolCalls }
        : { role: 'assistant', content: text },
    toolCalls,
    finishReason: mapOpenAIFinishReason(choice.finish_reason),
    usage: toUsage(completion.usage),
  }
  // Fields set one by one rather than spread in: cheaper in V8 (see the provider bench).
  const reasoning = message.reasoning ?? message.reasoning_content
  if (typeof reasoning === 'string' && reasoning !== '') response.reasoning = reasoning
  if (info !== undefined) {
    response.status = info.status
    if (info.requestId !== undefined) response.requestId = info.requestId
  }
  return response
}

/**
 * Core's {@link FinishReason} of an OpenAI `finish_reason`: `stop`,
 * `length`, `tool_calls` (and the legacy `function_call`), `content_filter`;
 * anything else, a missing one included, is `other`.
 */
export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return reason
    case 'function_call':
      return 'tool_calls'
    default:
      return 'other'
  }
}

function textOf(content: z.infer<typeof contentSchema>): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  let text = ''
  for (const part of content) {
    if ((part.type ?? 'text') === 'text' && typeof part.text === 'string') {
      text += part.text
    }
  }
  return text
}

function argumentsOf(value: z.infer<typeof argumentsSchema>): string {
  if (typeof value === 'string') return value
  return value === null || value === undefined ? '' : JSON.stringify(value)
}
