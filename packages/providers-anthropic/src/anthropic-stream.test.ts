import { fc, test } from '@fast-check/vitest'
import { isUnderstudyError, type ProviderStreamEvent } from '@understudy/core'
import { readSse, type SseMessage, type StreamParser } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import {
  createAnthropicStreamParser,
  createAnthropicStreamParserWithSchema,
  isPlainTextDelta,
} from './anthropic-stream.js'
import { anyValue, mostly, usage } from './test-support/odd-values.js'
import { readRecorded, readRecordedStream } from './test-support/recorded.js'

const target = { model: 'claude-sonnet-4-5', baseURL: 'https://api.anthropic.com', apiKey: 'k' }

/** The outcome of a parser over `messages`: every event, or the kind it threw. */
function run(
  messages: readonly SseMessage[],
  parser: StreamParser = createAnthropicStreamParser(target),
): { readonly events: ProviderStreamEvent[]; readonly error?: string } {
  const events: ProviderStreamEvent[] = []
  try {
    for (const message of messages) events.push(...parser.push(message))
    events.push(...parser.end())
  } catch (error) {
    return { events, error: isUnderstudyError(error) ? error.kind : String(error) }
  }
  return { events }
}

const text = (events: readonly ProviderStreamEvent[]): string =>
  events.map((event) => (event.type === 'text' ? event.text : '')).join('')

function event(data: Record<string, unknown>): SseMessage {
  return { event: String(data.type), data: JSON.stringify(data) }
}

describe('createAnthropicStreamParser on the recorded streams', () => {
  it('reads stream-text.sse: its text, end_turn and usage, ping ignored', () => {
    const { events, error } = run(readRecordedStream('anthropic/stream-text.sse'))
    expect(error).toBeUndefined()
    expect(text(events)).toBe('2')
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: {
        inputTokens: 20,
        outputTokens: 5,
        totalTokens: 25,
        cachedInputTokens: 0,
        cacheWriteInputTokens: 0,
      },
    })
  })

  it('reads stream-tool-use.reconstructed.sse: one tool call, its input in fragments', () => {
    const { events, error } = run(readRecordedStream('anthropic/stream-tool-use.reconstructed.sse'))
    expect(error).toBeUndefined()
    const calls = events.filter((each) => each.type === 'tool-call-delta')
    expect(calls[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^toolu_/) })
    const json = calls.map((each) => each.argumentsDelta).join('')
    expect(() => JSON.parse(json)).not.toThrow()
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('reads stream-tool-use-with-server-tool.sse: the client tool only, server tool use skipped', () => {
    const { events, error } = run(
      readRecordedStream('anthropic/stream-tool-use-with-server-tool.sse'),
    )
    expect(error).toBeUndefined()
    const calls = events.filter((each) => each.type === 'tool-call-delta')
    expect(new Set(calls.map((each) => each.index))).toEqual(new Set([0]))
    expect(calls[0]).toMatchObject({ name: 'get_exchange_rate' })
    expect(JSON.parse(calls.map((each) => each.argumentsDelta).join(''))).toBeTypeOf('object')
    expect(text(events).length).toBeGreaterThan(0)
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('throws stream-error-overloaded.sse as kind overloaded', () => {
    expect(run(readRecordedStream('anthropic/stream-error-overloaded.sse')).error).toBe(
      'overloaded',
    )
  })

  test.prop(
    [
      fc.constantFrom(
        'anthropic/stream-text.sse',
        'anthropic/stream-tool-use.reconstructed.sse',
        'anthropic/stream-tool-use-with-server-tool.sse',
      ),
      fc.array(fc.nat(), { maxLength: 40 }),
    ],
    { numRuns: 60 },
  )('reads the same events however the bytes of a recorded stream are cut', async (file, cuts) => {
    const bytes = new TextEncoder().encode(readRecorded(file))
    const points = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b)
    const pieces = [0, ...points].map((start, i) =>
      bytes.subarray(start, points[i] ?? bytes.length),
    )
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield* pieces
    }
    const messages: SseMessage[] = []
    for await (const message of readSse(chunks())) messages.push(message)
    expect(run(messages)).toEqual(run(readRecordedStream(file)))
  })
})

describe('createAnthropicStreamParser', () => {
  const start = event({
    type: 'message_start',
    message: { usage: { input_tokens: 7, output_tokens: 1 } },
  })
  const textBlock = event({
    type: 'content_block_start',
    index: 0,
    content_block: { type: 'text', text: '' },
  })
  const delta = (piece: string): SseMessage =>
    event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } })
  const stop = (reason: string): SseMessage[] => [
    event({ type: 'message_delta', delta: { stop_reason: reason }, usage: { output_tokens: 4 } }),
    event({ type: 'message_stop' }),
  ]

  it('throws kind incomplete for a body that ends without message_stop', () => {
    expect(run([start, textBlock, delta('Hi')])).toEqual({
      events: [{ type: 'text', text: 'Hi' }],
      error: 'incomplete',
    })
  })

  it('ends a refusal before any content as a content_filter finish', () => {
    const { events, error } = run([start, ...stop('refusal')])
    expect(error).toBeUndefined()
    expect(events).toEqual([
      { type: 'finish', finishReason: 'content_filter', usage: expect.any(Object) },
    ])
  })

  it('throws kind content_policy for a refusal after content', () => {
    expect(run([start, textBlock, delta('I can'), ...stop('refusal')])).toEqual({
      events: [{ type: 'text', text: 'I can' }],
      error: 'content_policy',
    })
  })

  it('keeps the input counts of message_start and the output count of message_delta', () => {
    const { events } = run([start, textBlock, delta('a'), ...stop('max_tokens')])
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'length',
      usage: { inputTokens: 7, outputTokens: 4, totalTokens: 11 },
    })
  })

  it('gathers a thinking block and its signature into the finish providerState', () => {
    const { events } = run([
      start,
      event({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'thinking_delta', thinking: 'Hm' },
      }),
      event({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'signature_delta', signature: 'sig' },
      }),
      event({
        type: 'content_block_start',
        index: 1,
        content_block: { type: 'redacted_thinking', data: 'x' },
      }),
      event({ type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } }),
      event({
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'citations_delta', citation: {} },
      }),
      event({ type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Yes' } }),
      ...stop('end_turn'),
    ])
    expect(events.slice(0, 2)).toEqual([
      { type: 'reasoning', text: 'Hm' },
      { type: 'text', text: 'Yes' },
    ])
    expect(events.at(-1)).toMatchObject({
      providerState: {
        provider: 'anthropic',
        data: {
          thinking: [
            { type: 'thinking', thinking: 'Hm', signature: 'sig' },
            { type: 'redacted_thinking', data: 'x' },
          ],
        },
      },
    })
  })

  it('throws kind server for an event that is not JSON or not an event', () => {
    expect(run([{ event: 'message_start', data: '{oops' }]).error).toBe('server')
    expect(run([event({ type: 'content_block_delta', index: 'x' })]).error).toBe('server')
  })
})

const anyDelta = fc.oneof(
  fc.record(
    { type: fc.constant('text_delta'), text: mostly(fc.string({ maxLength: 3 })) },
    { requiredKeys: [] },
  ),
  fc.record({
    type: fc.constant('input_json_delta'),
    partial_json: mostly(fc.string({ maxLength: 3 })),
  }),
  fc.record({ type: fc.constant('thinking_delta'), thinking: mostly(fc.string({ maxLength: 3 })) }),
  fc.record({
    type: fc.constant('signature_delta'),
    signature: mostly(fc.string({ maxLength: 3 })),
  }),
  fc.record({ type: mostly(fc.constant('citations_delta')), citation: anyValue }),
)
const anyEvent = fc.oneof(
  {
    arbitrary: fc.record({
      type: fc.constant('content_block_delta'),
      index: mostly(fc.nat({ max: 2 })),
      delta: mostly(anyDelta),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      type: fc.constant('content_block_start'),
      index: mostly(fc.nat({ max: 2 })),
      content_block: mostly(
        fc.oneof(
          fc.record({ type: fc.constant('text'), text: mostly(fc.string({ maxLength: 2 })) }),
          fc.record({
            type: fc.constant('tool_use'),
            id: mostly(fc.string({ maxLength: 2 })),
            name: fc.constant('f'),
            input: fc.constant({}),
          }),
          fc.record({
            type: fc.constant('thinking'),
            thinking: fc.constant(''),
            signature: fc.constant(''),
          }),
          fc.record({ type: fc.constant('server_tool_use'), id: fc.constant('s') }),
        ),
      ),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      type: fc.constant('message_start'),
      message: mostly(fc.record({ usage: mostly(usage) })),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      type: fc.constant('message_delta'),
      delta: mostly(
        fc.record({ stop_reason: mostly(fc.constantFrom('end_turn', 'refusal', null)) }),
      ),
      usage: mostly(usage),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom(
      { type: 'ping' },
      { type: 'message_stop' },
      { type: 'content_block_stop', index: 0 },
    ),
    weight: 1,
  },
)

describe('isPlainTextDelta', () => {
  test.prop([fc.array(anyEvent, { maxLength: 12 })], { numRuns: 2_000 })(
    'never lets the fast path read a stream otherwise than the schemas do',
    (events) => {
      const messages = events.map((each) => ({ event: undefined, data: JSON.stringify(each) }))
      expect(run(messages)).toEqual(run(messages, createAnthropicStreamParserWithSchema(target)))
    },
  )

  it('takes the recorded text deltas as plain', () => {
    const deltas = readRecordedStream('anthropic/stream-text.sse').filter(
      (message) => message.event === 'content_block_delta',
    )
    expect(deltas.map((message) => isPlainTextDelta(JSON.parse(message.data)))).toEqual([true])
  })
})
