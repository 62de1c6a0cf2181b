import { ConfigError, parseConfig } from '@understudy/core'
import * as z from 'zod'
import type { Fault, Reply } from './reply.js'

const faults = [
  'drop',
  'drop-mid-body',
  'drop-mid-stream',
  'malformed-json',
  'malformed-sse',
  'wrong-content-type',
  'oversized',
  'hang',
  'stall',
  'in-band-error',
  'no-terminal',
] as const satisfies readonly Fault[]

const ms = z.number().min(0)
const extras = {
  headersDelayMs: ms.optional(),
  headers: z.record(z.string(), z.string()).optional(),
}

const answerSchema = z.strictObject({
  ...extras,
  text: z.string().optional(),
  toolCalls: z
    .array(z.strictObject({ id: z.string().optional(), name: z.string(), arguments: z.string() }))
    .optional(),
  reasoning: z.string().optional(),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'other']).optional(),
  stopReason: z.string().optional(),
  usage: z
    .strictObject({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0) })
    .optional(),
  chunks: z.array(z.string()).optional(),
  chunkDelayMs: ms.optional(),
})

const errorSchema = z.strictObject({
  ...extras,
  status: z.number().int().min(100).max(599),
  body: z.unknown().optional(),
  retryAfter: z.string().optional(),
  retryAfterMs: z.number().min(0).optional(),
})

const faultSchema = z.strictObject({
  ...extras,
  fault: z.enum(faults, { message: `expected one of ${faults.map((f) => `"${f}"`).join(', ')}` }),
  afterEvents: z.number().int().min(0).optional(),
  sizeBytes: z.number().int().min(1).optional(),
})

const rawSchema = z.strictObject({
  ...extras,
  raw: z.strictObject({
    status: z.number().int().min(100).max(599).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.union([
      z.string(),
      z.array(z.strictObject({ data: z.string(), delayMs: ms.optional() })),
    ]),
  }),
})

/** The schema of the reply's own kind, chosen by its distinguishing key. */
function schemaFor(reply: object): z.ZodType {
  if ('raw' in reply) return rawSchema
  if ('fault' in reply) return faultSchema
  if ('status' in reply) return errorSchema
  return answerSchema
}

/**
 * Checks scripted replies; throws a `ConfigError` naming the first bad one
 * (`script("gpt-4o")[1].fault: expected one of …`) instead of letting a
 * typo become a hang or a silent success.
 */
export function checkReplies(replies: readonly unknown[], path: string): readonly Reply[] {
  if (replies.length === 0) throw new ConfigError({ path, message: 'expected at least one reply' })
  replies.forEach((reply, index) => {
    const at = `${path}[${index}]`
    if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
      throw new ConfigError({ path: at, message: 'expected a reply object' })
    }
    parseConfig(schemaFor(reply), reply, at)
  })
  return Object.freeze([...(replies as readonly Reply[])])
}
