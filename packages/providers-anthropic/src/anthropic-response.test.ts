import { fc, test } from '@fast-check/vitest'
import { isUnderstudyError, replayableState } from '@understudy/core'
import type { AttemptTarget } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import { mapStopReason } from './anthropic-finish-reason.js'
import {
  isPlainMessage,
  parseAnthropicResponse,
  parseAnthropicResponseWithSchema,
} from './anthropic-response.js'
import { originOf } from './thinking-state.js'
import { anyValue, mostly, nullishString, usage } from './test-support/odd-values.js'
import { readRecordedJson, recordedBodies, recordedStatus } from './test-support/recorded.js'

const target: AttemptTarget = {
  model: 'claude-sonnet-4-5',
  baseURL: 'https://api.anthropic.com',
  apiKey: 'sk-ant-1',
}

function message(content: unknown[], extra: Record<string, unknown> = {}): unknown {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    content,
    stop_reason: 'end_turn',
    usage: { input_tokens: 5, output_tokens: 2 },
    ...extra,
  }
}

describe('parseAnthropicResponse on the recorded bodies', () => {
  it('reads message-text.json: text, end_turn, usage with cache counts', () => {
    const response = parseAnthropicResponse(readRecordedJson('anthropic/message-text.json'))
    expect(response.text.length).toBeGreaterThan(0)
    expect(response.message).toEqual({ role: 'assistant', content: response.text })
    expect(response.finishReason).toBe('stop')
    expect(response.toolCalls).toEqual([])
    expect(response.usage).toMatchObject({ cachedInputTokens: 0, cacheWriteInputTokens: 0 })
    expect(response.usage.outputTokens).toBeGreaterThan(0)
  })

  it('reads message-tool-use.json: one tool call, its input as JSON text', () => {
    const response = parseAnthropicResponse(readRecordedJson('anthropic/message-tool-use.json'))
    expect(response.finishReason).toBe('tool_calls')
    expect(response.toolCalls).toEqual([
      { id: expect.stringMatching(/^toolu_/), name: 'get_weather', arguments: '{"city":"Paris"}' },
    ])
  })

  it('reads message-text-and-tool-use.json: text, then a call with empty input', () => {
    const response = parseAnthropicResponse(
      readRecordedJson('anthropic/message-text-and-tool-use.json'),
    )
    expect(response.text).toMatch(/Okay, I will update the current issue list:$/)
    expect(response.toolCalls).toEqual([
      { id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', name: 'updateIssueList', arguments: '{}' },
    ])
    expect(response.message.toolCalls).toEqual(response.toolCalls)
  })

  it('throws each recorded error body, when it comes with a 200, as a typed error', () => {
    for (const file of recordedBodies().filter((name) => name.endsWith('.json'))) {
      if (recordedStatus(file) === 200) continue
      let thrown: unknown
      try {
        parseAnthropicResponse(readRecordedJson(file))
      } catch (error) {
        thrown = error
      }
      expect(isUnderstudyError(thrown), file).toBe(true)
    }
  })
})

describe('parseAnthropicResponse', () => {
  it('keeps signed and redacted thinking for the same origin, reasoning as text', () => {
    const response = parseAnthropicResponse(
      message([
        { type: 'thinking', thinking: 'First, ', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'thinking', thinking: 'then.', signature: 'sig-2' },
        { type: 'text', text: 'Answer.' },
      ]),
      { status: 200, requestId: 'req_1', target },
    )
    expect(response).toMatchObject({
      text: 'Answer.',
      reasoning: 'First, then.',
      status: 200,
      requestId: 'req_1',
    })
    const state = response.message.providerState
    expect(state?.origin).toBe(originOf(target))
    expect(replayableState(state, originOf(target))).toEqual({
      thinking: [
        { type: 'thinking', thinking: 'First, ', signature: 'sig-1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'thinking', thinking: 'then.', signature: 'sig-2' },
      ],
    })
  })

  it('skips blocks the shared response cannot hold, without failing', () => {
    const response = parseAnthropicResponse(
      message([
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'x' } },
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
        { type: 'text', text: 'Found it', citations: [{ type: 'web_search_result_location' }] },
        { type: 'fallback', reason: 'unknown' },
      ]),
    )
    expect(response.text).toBe('Found it')
    expect(response.toolCalls).toEqual([])
  })

  it('counts cache reads and writes into the input, and apart', () => {
    const response = parseAnthropicResponse(
      message([{ type: 'text', text: 'a' }], {
        usage: {
          input_tokens: 10,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 20,
          output_tokens: 3,
        },
      }),
    )
    expect(response.usage).toEqual({
      inputTokens: 130,
      outputTokens: 3,
      totalTokens: 133,
      cachedInputTokens: 100,
      cacheWriteInputTokens: 20,
    })
  })

  it('reads a refusal as content_filter', () => {
    const response = parseAnthropicResponse(
      message([], {
        stop_reason: 'refusal',
        stop_details: { type: 'refusal', category: 'cyber', explanation: null },
      }),
    )
    expect(response.finishReason).toBe('content_filter')
  })

  it('throws kind server for a 200 that is not a message, naming where', () => {
    let thrown: unknown
    try {
      parseAnthropicResponse({ content: [{ type: 'text' }] })
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'server')).toBe(true)
    expect(String(thrown)).toMatch(/not a message at content\.0/)
  })

  it('classifies an in-band error body by its type', () => {
    let thrown: unknown
    try {
      parseAnthropicResponse({
        type: 'error',
        error: { type: 'overloaded_error', message: 'Overloaded' },
      })
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'overloaded')).toBe(true)
  })
})

const block = fc.oneof(
  fc.record(
    { type: fc.constant('text'), text: mostly(fc.string({ maxLength: 3 })) },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      type: fc.constant('tool_use'),
      id: mostly(fc.string({ maxLength: 3 })),
      name: mostly(fc.string({ maxLength: 3 })),
      input: mostly(fc.constantFrom({}, { a: 1 }, { b: [true] })),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      type: fc.constant('thinking'),
      thinking: mostly(fc.string({ maxLength: 3 })),
      signature: mostly(fc.string({ maxLength: 3 })),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    { type: fc.constant('redacted_thinking'), data: mostly(nullishString) },
    { requiredKeys: [] },
  ),
  fc.record({ type: mostly(fc.constantFrom('server_tool_use', 'fallback')), input: anyValue }),
)

/** Message bodies: mostly plain, often with one part of an odd shape. */
const body = mostly(
  fc.record(
    {
      type: fc.constant('message'),
      content: mostly(fc.array(mostly(block), { maxLength: 4 })),
      stop_reason: mostly(
        fc.oneof(nullishString, fc.constantFrom('end_turn', 'tool_use', 'refusal')),
      ),
      usage: mostly(fc.oneof(fc.constantFrom(undefined, null), usage)),
    },
    { requiredKeys: ['content'] },
  ),
)

describe('isPlainMessage', () => {
  test.prop([body], { numRuns: 3_000 })(
    'never takes as plain a body the schema would reject or read otherwise',
    (value) => {
      if (!isPlainMessage(value)) return
      const info = { status: 200, requestId: undefined, target }
      expect(parseAnthropicResponse(value, info)).toEqual(
        parseAnthropicResponseWithSchema(value, info),
      )
    },
  )

  it('takes the recorded messages as plain, so they skip the schema', () => {
    for (const file of recordedBodies().filter((name) => /^anthropic\/message-/.test(name))) {
      expect(isPlainMessage(readRecordedJson(file)), file).toBe(true)
    }
  })
})

describe('mapStopReason', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'other'],
    [null, 'other'],
    [undefined, 'other'],
  ] as const)('maps %o to %s', (reason, expected) => {
    expect(mapStopReason(reason)).toBe(expected)
  })
})
