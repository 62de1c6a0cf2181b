import { fc, it as prop } from '@fast-check/vitest'
import {
  type ErrorKind,
  type FinishReason,
  isUnderstudyError,
  type ProviderStreamEvent,
  type Usage,
} from '@understudy/core'
import { readSse, type SseMessage } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import {
  createOpenAIStreamParser,
  createOpenAIStreamParserWithSchema,
  isPlainChunk,
} from './openai-stream.js'
import { mostly, nullishString, usage } from './test-support/odd-values.js'
import { readRecorded, readRecordedStream, recordedBodies } from './test-support/recorded.js'

interface Aggregate {
  text: string
  reasoning: string
  toolCalls: { id?: string; name?: string; arguments: string }[]
  finishReason: FinishReason | undefined
  usage: Usage | undefined
}

/** Runs `messages` through a fresh parser, then `end()`, checking the finish event comes once and last. */
function run(messages: readonly SseMessage[]): { events: ProviderStreamEvent[]; all: Aggregate } {
  const parser = createOpenAIStreamParser()
  const events: ProviderStreamEvent[] = []
  for (const message of messages) events.push(...parser.push(message))
  events.push(...parser.end())
  const finishes = events.filter((event) => event.type === 'finish')
  expect(finishes).toHaveLength(1)
  expect(events.at(-1)?.type).toBe('finish')
  return { events, all: aggregate(events) }
}

/** What a consumer would build from the events: text, reasoning, tool calls by index, finish. */
function aggregate(events: readonly ProviderStreamEvent[]): Aggregate {
  const all: Aggregate = {
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: undefined,
    usage: undefined,
  }
  for (const event of events) {
    switch (event.type) {
      case 'text':
        all.text += event.text
        break
      case 'reasoning':
        all.reasoning += event.text
        break
      case 'tool-call-delta': {
        const call = all.toolCalls[event.index] ?? { arguments: '' }
        all.toolCalls[event.index] = call
        // id and name come once per index.
        if (event.id !== undefined) {
          expect(call.id).toBeUndefined()
          call.id = event.id
        }
        if (event.name !== undefined) {
          expect(call.name).toBeUndefined()
          call.name = event.name
        }
        call.arguments += event.argumentsDelta
        break
      }
      case 'finish':
        all.finishReason = event.finishReason
        all.usage = event.usage
        break
      default:
        event satisfies never
    }
  }
  return all
}

/** The error `run` threw, and the events pushed before it. */
function failure(messages: readonly SseMessage[]): {
  error: unknown
  before: ProviderStreamEvent[]
} {
  const parser = createOpenAIStreamParser()
  const before: ProviderStreamEvent[] = []
  try {
    for (const message of messages) before.push(...parser.push(message))
    before.push(...parser.end())
  } catch (error) {
    return { error, before }
  }
  throw new Error(`expected the stream to fail; it gave ${before.length} events`)
}

const details = { cachedInputTokens: 0, reasoningTokens: 0 }

/** What each recorded stream must give: its aggregate, or the kind it fails with. */
const recordedStreams: Readonly<
  Record<string, { all: Aggregate } | { kind: ErrorKind; reasoningBefore: string }>
> = {
  'openai/stream-text-with-usage.sse': {
    all: {
      text: 'The capital of Mexico is Mexico City.',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 14, outputTokens: 8, totalTokens: 22, ...details },
    },
  },
  'openai/stream-tool-call.sse': {
    all: {
      text: '',
      reasoning: '',
      toolCalls: [
        {
          id: 'call_Vz0Sie91Ap56nH0ThKGrZXT7',
          name: 'get_weather',
          arguments: '{"city":"Mexico City"}',
        },
      ],
      finishReason: 'tool_calls',
      usage: { inputTokens: 423, outputTokens: 15, totalTokens: 438, ...details },
    },
  },
  'openai/stream-parallel-tool-calls.sse': {
    all: {
      text: '',
      reasoning: '',
      toolCalls: [
        { id: 'call_3rqTYrA6H21AYUaRGP4F66oq', name: 'get_country', arguments: '{}' },
        { id: 'call_Xw9XMKBJU48kAAd78WgIswDx', name: 'get_product_name', arguments: '{}' },
      ],
      finishReason: 'tool_calls',
      usage: { inputTokens: 364, outputTokens: 40, totalTokens: 404, ...details },
    },
  },
  // Azure: an empty first chunk with prompt_filter_results, filter results on each chunk, no [DONE].
  'azure/stream-model-router-with-filter-results.chunks.jsonl': {
    all: {
      text: 'Capital of Denmark.',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: {
        inputTokens: 15,
        outputTokens: 78,
        totalTokens: 93,
        cachedInputTokens: 0,
        reasoningTokens: 64,
      },
    },
  },
  // Groq: reasoning, then `event: error` with `status_code: 400`, `code: tool_use_failed`; no [DONE].
  'openai/stream-event-error-groq.sse': {
    kind: 'invalid_request',
    reasoningBefore: 'We need to call the tool with invalid parameters first',
  },
  // OpenRouter: reasoning, finish_reason length, then an error chunk `code: 400` "Token limit reached".
  'openai/stream-in-band-error-openrouter.sse': {
    kind: 'invalid_request',
    reasoningBefore: 'We need to respond to a greeting. The user',
  },
  // SGLang: the only event is an error frame whose message is a context-window one.
  'other/sglang-stream-context-length-error.sse': { kind: 'context_window', reasoningBefore: '' },
}

const recordedSuccesses = Object.entries(recordedStreams).flatMap(([file, expected]) =>
  'all' in expected ? [{ file, all: expected.all }] : [],
)

const data = (value: unknown): SseMessage => ({ event: undefined, data: JSON.stringify(value) })
const done: SseMessage = { event: undefined, data: '[DONE]' }
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  data({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })

describe('createOpenAIStreamParser', () => {
  it('has an expected outcome for every recorded stream', () => {
    const streams = recordedBodies().filter((file) => /\.sse$|\.chunks\.jsonl$/.test(file))
    expect(streams.sort()).toEqual(Object.keys(recordedStreams).sort())
  })

  it.each(Object.entries(recordedStreams))('reads %s', (file, expected) => {
    const messages = readRecordedStream(file)
    if ('all' in expected) {
      expect(run(messages).all).toEqual(expected.all)
      return
    }
    const { error, before } = failure(messages)
    expect(isUnderstudyError(error, expected.kind)).toBe(true)
    expect(aggregate(before).reasoning.startsWith(expected.reasoningBefore)).toBe(true)
    expect(before.some((event) => event.type === 'finish')).toBe(false)
  })

  it("yields nothing for Azure's first chunk of prompt filter results", () => {
    const [first] = readRecordedStream('azure/stream-model-router-with-filter-results.chunks.jsonl')
    expect(createOpenAIStreamParser().push(first as SseMessage)).toEqual([])
  })

  it('yields nothing for role-only, empty and keep-alive events', () => {
    const parser = createOpenAIStreamParser()
    expect(parser.push(chunk({ role: 'assistant', content: '', refusal: null }))).toEqual([])
    expect(parser.push(chunk({ content: null, reasoning: '' }))).toEqual([])
    expect(parser.push(chunk({}))).toEqual([])
    expect(parser.push({ event: undefined, data: '' })).toEqual([])
  })

  it('reads reasoning from reasoning or reasoning_content, before the text of the same delta', () => {
    const parser = createOpenAIStreamParser()
    expect(parser.push(chunk({ reasoning_content: 'hmm', content: 'A' }))).toEqual([
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'A' },
    ])
    expect(parser.push(chunk({ reasoning: 'so' }))).toEqual([{ type: 'reasoning', text: 'so' }])
  })

  it('carries usage from the chunk after the finish_reason in the one finish event', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }
    const parser = createOpenAIStreamParser()
    expect(parser.push(chunk({ content: 'Hi' }))).toEqual([{ type: 'text', text: 'Hi' }])
    expect(parser.push(chunk({}, 'stop'))).toEqual([])
    expect(parser.push(data({ choices: [], usage }))).toEqual([])
    expect(parser.push(done)).toEqual([
      {
        type: 'finish',
        finishReason: 'stop',
        usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      },
    ])
    expect(parser.end()).toEqual([])
  })

  it('ignores whatever follows [DONE]', () => {
    const parser = createOpenAIStreamParser()
    parser.push(chunk({ content: 'Hi' }, 'stop'))
    expect(parser.push(done)).toHaveLength(1)
    expect(parser.push(chunk({ content: 'more' }))).toEqual([])
    expect(parser.push(data({ error: { message: 'late' } }))).toEqual([])
    expect(parser.end()).toEqual([])
  })

  it('accepts a body that ends after a finish_reason without [DONE]', () => {
    const { all } = run([chunk({ content: 'Hi' }), chunk({}, 'length')])
    expect(all).toEqual({
      text: 'Hi',
      reasoning: '',
      toolCalls: [],
      finishReason: 'length',
      usage: {},
    })
  })

  it('throws kind incomplete from end() for a body that ended without a finish_reason', () => {
    const parser = createOpenAIStreamParser()
    expect(parser.push(chunk({ content: 'Hal' }))).toEqual([{ type: 'text', text: 'Hal' }])
    expect(() => parser.end()).toThrow(expect.objectContaining({ kind: 'incomplete' }))
  })

  it('takes an empty finish_reason for none', () => {
    const parser = createOpenAIStreamParser()
    parser.push(chunk({ content: 'Hal' }, ''))
    expect(() => parser.end()).toThrow(expect.objectContaining({ kind: 'incomplete' }))
  })

  it('throws kind incomplete for [DONE] without a finish_reason', () => {
    const { error } = failure([chunk({ content: 'Hal' }), done])
    expect(isUnderstudyError(error, 'incomplete')).toBe(true)
  })

  it('throws kind incomplete for an empty body', () => {
    expect(isUnderstudyError(failure([]).error, 'incomplete')).toBe(true)
  })

  it.each([
    ['server', { error: { message: 'The server had an error', type: 'server_error', code: null } }],
    ['rate_limit', { error: { message: 'Slow down', code: 429 } }],
    ['quota', { error: { message: 'Pay', code: 'insufficient_quota' } }],
    [
      'context_window',
      { error: { message: "This model's maximum context length is 8192 tokens" } },
    ],
    ['server', { error: 'something broke' }],
  ] as const)('throws an in-band error frame as kind %s', (kind, frame) => {
    const { error } = failure([chunk({ content: 'x' }), data(frame)])
    expect(isUnderstudyError(error, kind)).toBe(true)
  })

  it('throws an `event: error` frame even when its data has no error field', () => {
    const { error } = failure([{ event: 'error', data: '{"message":"boom"}' }])
    expect(isUnderstudyError(error, 'server')).toBe(true)
  })

  it.each([
    ['not JSON', { event: undefined, data: '{"choices": [' }],
    ['choices not a list', data({ choices: { index: 0 } })],
    ['a delta of the wrong shape', data({ choices: [{ index: 0, delta: { content: 42 } }] })],
  ])('throws kind server for a chunk that is %s', (_, message) => {
    expect(isUnderstudyError(failure([message]).error, 'server')).toBe(true)
  })

  it('sends a tool call id and name once, even when a server repeats them', () => {
    const call = (args: string) => ({
      tool_calls: [
        { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: args } },
      ],
    })
    const parser = createOpenAIStreamParser()
    expect(parser.push(chunk(call('{"a"')))).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'call_1', name: 'f', argumentsDelta: '{"a"' },
    ])
    expect(parser.push(chunk(call(':1}')))).toEqual([
      { type: 'tool-call-delta', index: 0, argumentsDelta: ':1}' },
    ])
    expect(parser.push(chunk(call('')))).toEqual([])
  })

  it('sends an id that comes after the first delta of its index', () => {
    const parser = createOpenAIStreamParser()
    parser.push(chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '' } }] }))
    expect(parser.push(chunk({ tool_calls: [{ index: 0, id: 'late', function: {} }] }))).toEqual([
      { type: 'tool-call-delta', index: 0, id: 'late', argumentsDelta: '' },
    ])
  })

  it('numbers tool calls by their place in the list when a server sends no index', () => {
    const parser = createOpenAIStreamParser()
    const calls = [
      { id: 'a', function: { name: 'f', arguments: '{}' } },
      { id: 'b', function: { name: 'g', arguments: '{}' } },
    ]
    expect(
      parser.push(chunk({ tool_calls: calls })).map((event) => Reflect.get(event, 'index')),
    ).toEqual([0, 1])
  })

  it('reads only the first choice', () => {
    const parser = createOpenAIStreamParser()
    const two = data({
      choices: [
        { index: 1, delta: { content: 'B' }, finish_reason: null },
        { index: 0, delta: { content: 'A' }, finish_reason: null },
      ],
    })
    expect(parser.push(two)).toEqual([{ type: 'text', text: 'A' }])
  })

  prop.prop([streamSplitArbitrary()], { numRuns: 300 })(
    'gives the same text, tool calls and usage however the deltas of a recorded stream are split',
    ({ file, messages }) => {
      const expected = recordedSuccesses.find((each) => each.file === file)?.all
      expect(run(messages).all).toEqual(expected)
    },
  )

  prop.prop(
    [
      fc.constantFrom(...recordedSuccesses.filter(({ file }) => file.endsWith('.sse'))),
      fc.array(fc.nat(), { maxLength: 40 }),
    ],
    { numRuns: 100 },
  )(
    'gives the same text, tool calls and usage however the bytes of a recorded stream are cut, read by readSse',
    async ({ file, all }, cuts) => {
      const bytes = new TextEncoder().encode(readRecorded(file))
      const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b)
      const pieces = [0, ...points].map((start, i) =>
        bytes.subarray(start, points[i] ?? bytes.length),
      )
      const messages: SseMessage[] = []
      for await (const message of readSse(toAsync(pieces))) messages.push(message)
      expect(run(messages).all).toEqual(all)
    },
  )
})

const delta = fc.record(
  {
    role: fc.constant('assistant'),
    content: mostly(nullishString),
    reasoning: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      { arbitrary: mostly(nullishString), weight: 1 },
    ),
    reasoning_content: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 4 },
      { arbitrary: mostly(nullishString), weight: 1 },
    ),
    tool_calls: fc.oneof(
      { arbitrary: fc.constantFrom(undefined, null), weight: 4 },
      {
        arbitrary: mostly(
          fc.array(
            fc.record(
              {
                index: mostly(fc.nat({ max: 1 })),
                id: mostly(nullishString),
                function: mostly(
                  fc.record(
                    { name: mostly(nullishString), arguments: mostly(nullishString) },
                    { requiredKeys: [] },
                  ),
                ),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 2 },
          ),
        ),
        weight: 1,
      },
    ),
    refusal: fc.constantFrom(undefined, null),
  },
  { requiredKeys: [] },
)
const choice = fc.record(
  {
    index: mostly(fc.nat({ max: 1 })),
    delta: mostly(fc.oneof(fc.constantFrom(undefined, null), delta)),
    finish_reason: mostly(
      fc.oneof(nullishString, fc.constantFrom('stop', 'length', 'tool_calls', 'content_filter')),
    ),
  },
  { requiredKeys: [] },
)
/** Stream chunks: mostly plain, often with one part of an odd shape. */
const anyChunk = mostly(
  fc.record(
    {
      id: fc.constant('chatcmpl-1'),
      object: fc.constant('chat.completion.chunk'),
      choices: mostly(fc.array(mostly(choice), { maxLength: 2 })),
      usage: mostly(fc.oneof(fc.constantFrom(undefined, null), usage)),
    },
    { requiredKeys: [] },
  ),
)

/** What a parser does with `messages` and then its end: each push's events or error, then end's. */
function outcomes(parser: ReturnType<typeof createOpenAIStreamParser>, messages: SseMessage[]) {
  const each = (step: () => readonly ProviderStreamEvent[]) => {
    try {
      return { events: step() }
    } catch (error) {
      return { error: isUnderstudyError(error) ? [error.kind, error.message] : String(error) }
    }
  }
  return [...messages.map((message) => each(() => parser.push(message))), each(() => parser.end())]
}

describe('isPlainChunk', () => {
  prop.prop([anyChunk], { numRuns: 3_000 })(
    'never takes as plain a chunk the schema would reject or read otherwise',
    (value) => {
      if (!isPlainChunk(value)) return
      const message = { event: undefined, data: JSON.stringify(value) }
      // Through JSON, as a chunk arrives: plain is judged on what JSON.parse gives back.
      if (!isPlainChunk(JSON.parse(message.data))) return
      expect(createOpenAIStreamParser().push(message)).toEqual(
        createOpenAIStreamParserWithSchema().push(message),
      )
    },
  )

  prop.prop([fc.array(anyChunk, { maxLength: 6 }), fc.boolean()], { numRuns: 1_000 })(
    'gives the same events and errors as the schema path over a whole stream, fast chunks or not',
    (chunks, done) => {
      const messages: SseMessage[] = chunks.map((each) => ({
        event: undefined,
        data: JSON.stringify(each) ?? 'undefined',
      }))
      if (done) messages.push({ event: undefined, data: '[DONE]' })
      expect(outcomes(createOpenAIStreamParser(), messages)).toEqual(
        outcomes(createOpenAIStreamParserWithSchema(), messages),
      )
    },
  )

  it('takes the chunks of a recorded OpenAI text stream as plain, so they skip the schema', () => {
    const chunks = readRecorded('openai/stream-text-with-usage.sse')
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice('data: '.length)) as unknown)
    expect(chunks.length).toBeGreaterThan(2)
    for (const each of chunks) expect(isPlainChunk(each)).toBe(true)
  })

  it('leaves tool calls, reasoning, a second choice and odd usage to the schema', () => {
    const with_ = (delta: unknown, extra: Record<string, unknown> = {}) => ({
      choices: [{ index: 0, delta, finish_reason: null }],
      ...extra,
    })
    expect(isPlainChunk(with_({ content: 'a' }))).toBe(true)
    expect(isPlainChunk(with_({ tool_calls: [{ index: 0, function: { arguments: '{' } }] }))).toBe(
      false,
    )
    expect(isPlainChunk(with_({ reasoning: 'hm' }))).toBe(false)
    expect(isPlainChunk(with_({ content: 'a' }, { usage: { prompt_tokens: '7' } }))).toBe(false)
    expect(isPlainChunk({ choices: [{ index: 1, delta: { content: 'B' } }] })).toBe(false)
    expect(
      isPlainChunk({
        choices: [
          { index: 0, delta: { content: 'A' } },
          { index: 1, delta: {} },
        ],
      }),
    ).toBe(false)
  })
})

async function* toAsync(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece
}

/**
 * A recorded successful stream with each delta's text, reasoning and
 * argument strings cut into pieces at arbitrary points (each piece its own
 * chunk), and its `[DONE]` sometimes dropped (the body then just ends).
 */
function streamSplitArbitrary(): fc.Arbitrary<{ file: string; messages: SseMessage[] }> {
  return fc.constantFrom(...recordedSuccesses.map(({ file }) => file)).chain((file) => {
    const recorded = readRecordedStream(file)
    return fc
      .tuple(
        fc.array(fc.array(fc.nat({ max: 64 }), { maxLength: 4 }), {
          minLength: recorded.length,
          maxLength: recorded.length,
        }),
        fc.boolean(),
      )
      .map(([cuts, dropDone]) => {
        const messages = recorded.flatMap((message, index) =>
          splitMessage(message, cuts[index] ?? []),
        )
        return { file, messages: dropDone ? messages.filter((m) => m.data !== '[DONE]') : messages }
      })
  })
}

/** `message` as several chunks, its one delta string cut at `cuts` (positions modulo its length). */
function splitMessage(message: SseMessage, cuts: readonly number[]): SseMessage[] {
  if (message.data === '[DONE]' || cuts.length === 0) return [message]
  const json = JSON.parse(message.data) as {
    choices?: { delta?: Record<string, unknown>; finish_reason?: unknown }[]
  }
  const choice = json.choices?.[0]
  const delta = choice?.delta
  if (choice === undefined || delta === undefined || choice.finish_reason != null) return [message]
  const calls = delta.tool_calls as { function?: { arguments?: string } }[] | undefined
  const key = typeof delta.content === 'string' && delta.content !== '' ? 'content' : undefined
  const whole = key !== undefined ? (delta.content as string) : calls?.[0]?.function?.arguments
  if (whole === undefined || whole.length < 2) return [message]
  const points = [...new Set(cuts.map((cut) => cut % whole.length))]
    .filter((p) => p > 0)
    .sort((a, b) => a - b)
  const pieces = [0, ...points].map((start, i) => whole.slice(start, points[i] ?? whole.length))
  return pieces.map((piece, i) => {
    const copy = structuredClone(json) as typeof json
    const target = copy.choices?.[0]?.delta as Record<string, unknown>
    const call = (
      target.tool_calls as { id?: unknown; function: Record<string, unknown> }[] | undefined
    )?.[0]
    if (key !== undefined) target.content = piece
    else if (call !== undefined) {
      call.function.arguments = piece
      // Later pieces are plain argument fragments, as servers send them.
      if (i > 0) {
        delete call.id
        delete call.function.name
      }
    }
    return { event: message.event, data: JSON.stringify(copy) }
  })
}
