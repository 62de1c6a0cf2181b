import { ConfigError, type ErrorKind, errorKinds, parseConfig } from '@understudy/core'
import * as z from 'zod'
import { deepFreeze } from './deep-freeze.js'
import type { MockStep } from './mock-step.js'

const stepKeys = ['ok', 'fail', 'throws', 'hang', 'stream', 'failOnRead'] as const
const finishReasons = ['stop', 'length', 'tool_calls', 'content_filter', 'other'] as const

const quoted = (values: readonly string[]): string => values.map((value) => `"${value}"`).join(', ')
const ms = z.number().min(0)
const kind = z.enum(errorKinds as readonly [ErrorKind, ...ErrorKind[]], {
  error: `expected one of ${quoted(errorKinds)}`,
})
const failureFields = {
  status: z.number().int().min(100).max(599).optional(),
  retryAfterMs: ms.optional(),
  message: z.string().optional(),
}
const count = z.number().int().min(0).optional()
const usage = z.strictObject({
  inputTokens: count,
  outputTokens: count,
  totalTokens: count,
  cachedInputTokens: count,
  reasoningTokens: count,
})
const finishReason = z.enum(finishReasons, { error: `expected one of ${quoted(finishReasons)}` })

const chunkTypes = ['text', 'reasoning', 'tool-call-delta'] as const
const chunk = z.union(
  [
    z.string(),
    z.discriminatedUnion(
      'type',
      [
        z.strictObject({ type: z.literal('text'), text: z.string(), delayMs: ms.optional() }),
        z.strictObject({ type: z.literal('reasoning'), text: z.string(), delayMs: ms.optional() }),
        z.strictObject({
          type: z.literal('tool-call-delta'),
          index: z.number().int().min(0),
          id: z.string().optional(),
          name: z.string().optional(),
          argumentsDelta: z.string(),
          delayMs: ms.optional(),
        }),
      ],
      { error: `expected a chunk type, one of ${quoted(chunkTypes)}` },
    ),
  ],
  { error: 'expected a text string or a chunk object ({ type: "text", text })' },
)

const stepSchemas: Readonly<Record<(typeof stepKeys)[number], z.ZodType>> = {
  ok: z.strictObject({
    ok: z.string(),
    toolCalls: z
      .array(z.strictObject({ id: z.string().optional(), name: z.string(), arguments: z.string() }))
      .optional(),
    reasoning: z.string().optional(),
    usage: usage.optional(),
    finishReason: finishReason.optional(),
    status: z.number().int().min(100).max(599).optional(),
    requestId: z.string().optional(),
    delayMs: ms.optional(),
  }),
  fail: z.strictObject({ fail: kind, ...failureFields, delayMs: ms.optional() }),
  throws: z.strictObject({ throws: z.string(), delayMs: ms.optional() }),
  hang: z.strictObject({ hang: z.literal(true, { error: 'expected true' }) }),
  stream: z.strictObject({
    stream: z.array(chunk),
    end: z
      .union(
        [z.enum(['finish', 'no-terminal']), z.strictObject({ fail: kind, ...failureFields })],
        {
          error:
            'expected "finish", "no-terminal" or a failure { fail: kind, status?, retryAfterMs? }',
        },
      )
      .optional(),
    finishReason: finishReason.optional(),
    usage: usage.optional(),
    delayMs: ms.optional(),
  }),
  failOnRead: z.strictObject({ failOnRead: kind, ...failureFields, delayMs: ms.optional() }),
}

/**
 * Checks the scripts of a mock provider and returns them deep-frozen, per
 * model; throws a `ConfigError` naming the first bad step and field
 * (`mockProvider("a").scripts["m"][1].fail: expected one of …`) instead of
 * letting a typo play as something else.
 */
export function checkMockScripts(
  scripts: unknown,
  path: string,
): ReadonlyMap<string, readonly MockStep[]> {
  if (typeof scripts !== 'object' || scripts === null || Array.isArray(scripts)) {
    throw new ConfigError({ path, message: 'expected an object of steps per model' })
  }
  const checked = new Map<string, readonly MockStep[]>()
  for (const [model, list] of Object.entries(scripts)) {
    const at = `${path}[${JSON.stringify(model)}]`
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigError({ path: at, message: 'expected a non-empty array of steps' })
    }
    checked.set(
      model,
      Object.freeze(list.map((step: unknown, index) => checkStep(step, `${at}[${index}]`))),
    )
  }
  return checked
}

function checkStep(step: unknown, path: string): MockStep {
  if (typeof step !== 'object' || step === null || Array.isArray(step)) {
    throw new ConfigError({
      path,
      message: `expected a step object with one of ${quoted(stepKeys)}`,
    })
  }
  const keys = stepKeys.filter((key) => key in step)
  const key = keys[0]
  if (key === undefined) {
    throw new ConfigError({ path, message: `expected a step with one of ${quoted(stepKeys)}` })
  }
  if (keys.length > 1) {
    throw new ConfigError({
      path,
      message: `a step takes one of ${quoted(stepKeys)}; found ${quoted(keys)}`,
    })
  }
  return deepFreeze(parseConfig(stepSchemas[key], step, path)) as MockStep
}
