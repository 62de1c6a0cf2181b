import {
  type FinishReason,
  type ProviderResponse,
  type ToolCall,
  UnderstudyError,
} from '@understudy/core'
import { z } from 'zod'
import { createOpenAIInBandError, isOpenAIErrorBody } from './openai-errors.js'
import { openAIUsageSchema, toUsage } from './openai-usage.js'

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

/**
 * The {@link ProviderResponse} of a 200 Chat Completions body: text, tool
 * calls, reasoning, finish reason and usage.
 *
 * @throws UnderstudyError classified like an HTTP error when the body is an
 * `{ "error": … }` (compatible servers send some errors with a 200), and kind
 * `server` when it is not a chat completion at all.
 */
export function parseOpenAIResponse(body: unknown): ProviderResponse {
  const parsed = chatCompletionSchema.safeParse(body)
  if (!parsed.success) {
    if (isOpenAIErrorBody(body)) throw createOpenAIInBandError(body)
    const issue = parsed.error.issues[0]
    const where =
      issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
    throw new UnderstudyError({
      kind: 'server',
      message: `the upstream answered 200 with a body that is not a chat completion${where}`,
    })
  }
  const { choices, usage } = parsed.data
  // `.min(1)` above: the first choice exists.
  const choice = choices[0] as (typeof choices)[number]
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
  const reasoning = message.reasoning ?? message.reasoning_content
  return {
    text,
    message:
      toolCalls.length > 0
        ? { role: 'assistant', content: text, toolCalls }
        : { role: 'assistant', content: text },
    toolCalls,
    ...(typeof reasoning === 'string' && reasoning !== '' && { reasoning }),
    finishReason: mapOpenAIFinishReason(choice.finish_reason),
    usage: toUsage(usage),
  }
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
