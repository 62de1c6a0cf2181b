import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import { isPlainRequest } from './check-request.js'
import { requestSchema } from './request-schema.js'

/** JSON as tool schemas and provider options hold it, and values zod's JSON refuses. */
const jsonish: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    Number.POSITIVE_INFINITY,
    Number.NaN,
    undefined,
    { nested: undefined },
    { nested: [1, Number.NEGATIVE_INFINITY] },
    { [Symbol('tag')]: 1 },
    new Date(0),
    () => 1,
  ),
)
const jsonObject = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), jsonish, { maxKeys: 3 }),
  fc.constantFrom([], 'schema', null),
)
const stringish = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(42, undefined, null, ['x']))
const numberish = fc.oneof(
  fc.integer({ min: -3, max: 10_000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -0, 1, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '0.2'),
)

const validPart = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 6 }) }),
  fc.record(
    {
      type: fc.constant('image'),
      image: fc.oneof(fc.constant('https://img.example/a.png'), fc.uint8Array({ maxLength: 4 })),
      mediaType: fc.constant('image/png'),
    },
    { requiredKeys: ['type', 'image'] },
  ),
)
/** Mostly a value of the right type, else a value of another (absent keys come from the records). */
const often = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: valid, weight: 3 },
    { arbitrary: fc.constantFrom(42, null, undefined, '', [], {}), weight: 1 },
  )

const anyPart = fc.oneof(
  validPart,
  fc.record(
    {
      type: fc.constantFrom('text', 'image', 'audio'),
      text: often(fc.string({ maxLength: 4 })),
      image: often(fc.oneof(fc.string({ maxLength: 4 }), fc.uint8Array({ maxLength: 2 }))),
      mediaType: often(fc.string({ maxLength: 4 })),
    },
    { requiredKeys: [] },
  ),
)
const validToolCall = fc.record({
  id: fc.string({ maxLength: 4 }),
  name: fc.string({ maxLength: 4 }),
  arguments: fc.constant('{}'),
})
const anyToolCall = fc.oneof(
  validToolCall,
  fc.record(
    {
      id: often(fc.string({ maxLength: 4 })),
      name: often(fc.string({ maxLength: 4 })),
      arguments: often(fc.string({ maxLength: 4 })),
    },
    { requiredKeys: [] },
  ),
)

const validProviderState = fc.record({
  provider: fc.constantFrom('anthropic', 'google'),
  origin: fc.string({ maxLength: 6 }),
  data: fc.jsonValue({ maxDepth: 2 }),
})
const anyProviderState = fc.oneof(
  validProviderState,
  fc.record(
    { provider: often(fc.string({ maxLength: 4 })), origin: stringish, data: fc.anything() },
    { requiredKeys: [] },
  ),
  fc.constantFrom('state', null),
)

const validMessage = fc.oneof(
  fc.record({ role: fc.constant('system'), content: fc.string({ maxLength: 6 }) }),
  fc.record({
    role: fc.constant('user'),
    content: fc.oneof(fc.string({ maxLength: 6 }), fc.array(validPart, { maxLength: 3 })),
  }),
  fc.record(
    {
      role: fc.constant('assistant'),
      content: fc.string({ maxLength: 6 }),
      toolCalls: fc.array(validToolCall, { maxLength: 2 }),
      providerState: validProviderState,
    },
    { requiredKeys: ['role', 'content'] },
  ),
  fc.record({
    role: fc.constant('tool'),
    toolCallId: fc.string({ maxLength: 4 }),
    content: fc.string({ maxLength: 6 }),
  }),
)
/** Any role, with each field (or none) of the right type or not, extra keys included. */
const anyMessage = fc.oneof(
  validMessage,
  fc.record(
    {
      role: fc.constantFrom('system', 'user', 'assistant', 'tool', 'wizard'),
      content: often(fc.oneof(fc.string({ maxLength: 4 }), fc.array(anyPart, { maxLength: 2 }))),
      toolCallId: often(fc.string({ maxLength: 4 })),
      toolCalls: often(fc.array(anyToolCall, { maxLength: 2 })),
      providerState: anyProviderState,
      name: fc.string({ maxLength: 3 }),
    },
    { requiredKeys: [] },
  ),
  fc.constantFrom(42, null, 'hi', []),
)

const validTool = fc.record(
  {
    name: fc.string({ maxLength: 4 }),
    description: fc.string({ maxLength: 4 }),
    parameters: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 3,
    }),
  },
  { requiredKeys: ['name', 'parameters'] },
)
const validResponseFormat = fc.oneof(
  fc.constantFrom({ type: 'text' }, { type: 'json' }),
  fc.record(
    {
      type: fc.constant('json_schema'),
      name: fc.string({ maxLength: 4 }),
      schema: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), {
        maxKeys: 3,
      }),
      strict: fc.boolean(),
    },
    { requiredKeys: ['type', 'name', 'schema'] },
  ),
)

/** Per request field: values the schema accepts, and values of every shape, valid or not. */
const fields = {
  model: {
    valid: fc.constantFrom('openai/gpt-4o', 'openrouter/meta-llama/llama-3', 'a/b'),
    any: fc.oneof(
      fc.constantFrom('gpt-4o', 'openai/', ' a/b', '', 42),
      fc.string({ maxLength: 6 }),
    ),
  },
  messages: {
    valid: fc.array(validMessage, { minLength: 1, maxLength: 4 }),
    any: fc.oneof(fc.array(anyMessage, { maxLength: 4 }), fc.constantFrom('hi', null, {})),
  },
  temperature: { valid: fc.double({ min: 0, max: 2, noNaN: true }), any: numberish },
  topP: { valid: fc.double({ min: 0, max: 1, noNaN: true }), any: numberish },
  topK: { valid: fc.integer({ min: 1, max: 500 }), any: numberish },
  maxTokens: { valid: fc.integer({ min: 1, max: 100_000 }), any: numberish },
  seed: { valid: fc.integer(), any: numberish },
  user: { valid: fc.string({ maxLength: 6 }), any: stringish },
  stop: {
    valid: fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 }),
    any: fc.oneof(fc.array(stringish, { maxLength: 3 }), stringish),
  },
  tools: {
    valid: fc.array(validTool, { maxLength: 2 }),
    any: fc.oneof(
      fc.array(
        fc.record(
          { name: stringish, description: stringish, parameters: jsonObject },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      stringish,
    ),
  },
  toolChoice: {
    valid: fc.oneof(
      fc.constantFrom('auto', 'none', 'required'),
      fc.record({ name: fc.string({ maxLength: 4 }) }),
    ),
    any: fc.oneof(fc.constantFrom('always', 42, null, {}), fc.record({ name: stringish })),
  },
  responseFormat: {
    valid: validResponseFormat,
    any: fc.oneof(
      fc.record(
        {
          type: fc.constantFrom('text', 'json', 'json_schema', 'xml'),
          name: stringish,
          schema: jsonObject,
          strict: fc.constantFrom(true, 'yes', undefined),
        },
        { requiredKeys: [] },
      ),
      stringish,
    ),
  },
  providerOptions: {
    valid: fc.dictionary(
      fc.constantFrom('openai', 'anthropic'),
      fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      { maxKeys: 2 },
    ),
    any: fc.oneof(
      fc.dictionary(fc.constantFrom('openai', 'anthropic'), jsonObject, { maxKeys: 2 }),
      stringish,
    ),
  },
} as const
type Field = keyof typeof fields
const names = Object.keys(fields) as Field[]

/** A valid request with, often, one field given a value of any shape, or an unknown key added. */
const request = fc
  .tuple(
    fc.record(
      Object.fromEntries(names.map((name) => [name, fields[name].valid])) as {
        [K in Field]: (typeof fields)[K]['valid']
      },
      { requiredKeys: ['model', 'messages'] },
    ),
    fc.option(fc.constantFrom(...names, 'max_tokens' as const)),
  )
  .chain(([base, spoiled]) =>
    spoiled === null
      ? fc.constant<unknown>(base)
      : (spoiled === 'max_tokens'
          ? fc.constant<unknown>(3)
          : (fields[spoiled].any as fc.Arbitrary<unknown>)
        ).map((value): unknown => ({ ...base, [spoiled]: value })),
  )

describe('isPlainRequest', () => {
  test.prop([fc.oneof(request, fc.anything())], { numRuns: 2_000 })(
    'never takes as valid what the schema rejects',
    (value) => {
      if (isPlainRequest(value)) expect(requestSchema.safeParse(value).success).toBe(true)
    },
  )

  test.prop([fc.array(anyMessage, { minLength: 1, maxLength: 2 })], { numRuns: 2_000 })(
    'never takes as valid a message the schema rejects',
    (messages) => {
      const value = { model: 'openai/gpt-4o', messages }
      if (isPlainRequest(value)) expect(requestSchema.safeParse(value).success).toBe(true)
    },
  )

  it('meets requests of both sides in the property above, so it can fail', () => {
    const sample = fc.sample(request, { numRuns: 500, seed: 42 })
    const fast = sample.filter(isPlainRequest).length
    expect(fast).toBeGreaterThan(100)
    expect(sample.length - fast).toBeGreaterThan(100)
  })

  it('takes the common shapes as valid, so they skip the schema', () => {
    const common: ChatRequest = {
      model: 'openai/gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', image: new Uint8Array([137, 80]), mediaType: 'image/png' },
            { type: 'image', image: 'https://img.example/a.png' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'look', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'call_1', content: 'a cat' },
      ],
      tools: [{ name: 'look', parameters: { type: 'object', properties: {} } }],
      toolChoice: 'auto',
      responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' } },
      temperature: 0.2,
      topP: 1,
      maxTokens: 256,
      stop: ['\n\n'],
      seed: 7,
      user: 'u-1',
      providerOptions: { openai: { logprobs: true } },
    }
    expect(isPlainRequest(common)).toBe(true)
    expect(requestSchema.safeParse(common).success).toBe(true)
  })

  it('ignores unknown keys, as the schema and every provider do', () => {
    const stored = { role: 'user', content: 'hi', id: 'm-1', createdAt: 0 }
    const request = { model: 'openai/gpt-4o', messages: [stored], traceId: 't-1' }
    expect(isPlainRequest(request)).toBe(true)
    expect(requestSchema.safeParse(request).success).toBe(true)
  })

  it('stops at deep JSON instead of overflowing the stack, and leaves it to the schema', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const request = {
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      providerOptions: { openai: cycle },
    }
    expect(isPlainRequest(request)).toBe(false)
  })
})
