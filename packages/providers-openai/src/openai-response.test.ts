import { type ProviderResponse, isUnderstudyError } from '@understudy/core'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  isPlainCompletion,
  mapOpenAIFinishReason,
  parseOpenAIResponse,
  parseOpenAIResponseWithSchema,
} from './openai-response.js'
import { anyValue, mostly, nullishString, usage } from './test-support/odd-values.js'
import { readRecordedJson, recordedBodies, recordedStatus } from './test-support/recorded.js'

const noDetails = { cachedInputTokens: 0, reasoningTokens: 0 }

/** What each recorded 200 chat completion must parse to (long text checked by its start and length). */
const recordedCompletions: Readonly<
  Record<string, (response: ProviderResponse, body: unknown) => void>
> = {
  'openai/chat-completion-text.json': (response, body) => {
    const content = (body as { choices: [{ message: { content: string } }] }).choices[0].message
      .content
    expect(response.text).toBe(content)
    expect(response.text.startsWith('**Holiday Name:** Galaxy Day')).toBe(true)
    expect(response.message).toEqual({ role: 'assistant', content })
    expect(response.toolCalls).toEqual([])
    expect(response.finishReason).toBe('stop')
    expect(response.usage).toEqual({
      inputTokens: 16,
      outputTokens: 363,
      totalTokens: 379,
      ...noDetails,
    })
  },
  'openai/chat-completion-tool-calls.json': (response) => {
    const toolCalls = [
      { id: 'call_jYdIdRZHxZTn5bWCq5jlMrJi', name: 'delete_file', arguments: '{"path": ".env"}' },
      {
        id: 'call_TmlTVWQbzrXCZ4jNsCVNbNqu',
        name: 'create_file',
        arguments: '{"path": "test.txt"}',
      },
    ]
    expect(response).toEqual({
      text: '',
      message: { role: 'assistant', content: '', toolCalls },
      toolCalls,
      finishReason: 'tool_calls',
      usage: { inputTokens: 71, outputTokens: 46, totalTokens: 117, ...noDetails },
    })
  },
  'azure/chat-completion-with-content-filter-results.json': (response) => {
    expect(response).toEqual({
      text: 'The capital of France is **Paris**.',
      message: { role: 'assistant', content: 'The capital of France is **Paris**.' },
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 14, outputTokens: 9, totalTokens: 23, ...noDetails },
    })
  },
}

/** A minimal completion with `message` and `extra` top-level fields. */
function completion(message: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { choices: [{ index: 0, message, finish_reason: 'stop' }], ...extra }
}

describe('parseOpenAIResponse', () => {
  it('has an expected response for every recorded 200 JSON body', () => {
    const completions = recordedBodies().filter(
      (file) => file.endsWith('.json') && recordedStatus(file) === 200,
    )
    expect(completions.sort()).toEqual(Object.keys(recordedCompletions).sort())
  })

  it.each(Object.entries(recordedCompletions))('parses %s', (file, check) => {
    const body = readRecordedJson(file)
    check(parseOpenAIResponse(body), body)
  })

  it('reads cached input tokens and reasoning tokens', () => {
    const usage = {
      prompt_tokens: 2000,
      completion_tokens: 300,
      total_tokens: 2300,
      prompt_tokens_details: { cached_tokens: 1920 },
      completion_tokens_details: { reasoning_tokens: 256 },
    }
    expect(parseOpenAIResponse(completion({ content: 'hi' }, { usage })).usage).toEqual({
      inputTokens: 2000,
      outputTokens: 300,
      totalTokens: 2300,
      cachedInputTokens: 1920,
      reasoningTokens: 256,
    })
  })

  it('accepts a body without usage, or with usage a server wrote oddly', () => {
    expect(parseOpenAIResponse(completion({ content: 'hi' })).usage).toEqual({})
    expect(parseOpenAIResponse(completion({ content: 'hi' }, { usage: null })).usage).toEqual({})
    const odd = { prompt_tokens: '7', completion_tokens: 3, prompt_tokens_details: 'none' }
    expect(parseOpenAIResponse(completion({ content: 'hi' }, { usage: odd })).usage).toEqual({
      outputTokens: 3,
    })
  })

  it('reads the reasoning of compatible servers from reasoning or reasoning_content', () => {
    const vllm = parseOpenAIResponse(completion({ content: 'A', reasoning: 'think' }))
    const deepseek = parseOpenAIResponse(completion({ content: 'A', reasoning_content: 'ponder' }))
    expect(vllm.reasoning).toBe('think')
    expect(deepseek.reasoning).toBe('ponder')
    expect('reasoning' in parseOpenAIResponse(completion({ content: 'A' }))).toBe(false)
  })

  it('takes null content as no text', () => {
    const response = parseOpenAIResponse(completion({ role: 'assistant', content: null }))
    expect(response.text).toBe('')
    expect(response.message).toEqual({ role: 'assistant', content: '' })
  })

  it('joins the text parts of content sent as a list', () => {
    const content = [
      { type: 'thinking', thinking: [{ type: 'text', text: 'hidden' }] },
      { type: 'text', text: 'Hello' },
      { type: 'text', text: ' there' },
    ]
    expect(parseOpenAIResponse(completion({ content })).text).toBe('Hello there')
  })

  it('reads tool calls whose arguments are an object or missing, and gives an id where none came', () => {
    const response = parseOpenAIResponse(
      completion({
        content: null,
        tool_calls: [
          { type: 'function', function: { name: 'a', arguments: { city: 'Oslo' } } },
          { id: 'call_b', type: 'function', function: { name: 'b' } },
        ],
      }),
    )
    expect(response.toolCalls).toEqual([
      { id: 'call_0', name: 'a', arguments: '{"city":"Oslo"}' },
      { id: 'call_b', name: 'b', arguments: '' },
    ])
  })

  it('reads a legacy function_call as a tool call', () => {
    const body = {
      choices: [
        {
          message: { content: null, function_call: { name: 'f', arguments: '{}' } },
          finish_reason: 'function_call',
        },
      ],
    }
    const response = parseOpenAIResponse(body)
    expect(response.toolCalls).toEqual([{ id: 'call_0', name: 'f', arguments: '{}' }])
    expect(response.finishReason).toBe('tool_calls')
  })

  it('keeps only what it reads from a body full of extra fields', () => {
    const body = completion(
      { content: 'hi', refusal: null, annotations: [], audio: null },
      { id: 'x', object: 'chat.completion', service_tier: 'default', x_groq: { id: 'req' } },
    )
    expect(parseOpenAIResponse(body)).toEqual({
      text: 'hi',
      message: { role: 'assistant', content: 'hi' },
      toolCalls: [],
      finishReason: 'stop',
      usage: {},
    })
  })

  it.each([
    ['no body', undefined],
    ['a string', 'Hello'],
    ['an empty object', {}],
    ['no choices', { choices: [] }],
    ['a choice without a message', { choices: [{ finish_reason: 'stop' }] }],
    ['a tool call without a name', completion({ tool_calls: [{ id: 'c', function: {} }] })],
  ])('throws kind server for a 200 body that is not a completion: %s', (_, body) => {
    let thrown: unknown
    try {
      parseOpenAIResponse(body)
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'server')).toBe(true)
    expect((thrown as Error).message).toMatch(/not a chat completion/)
  })

  it('classifies an error body sent with a 200 like the HTTP error it names', () => {
    const body = { error: { code: 'context_length_exceeded', message: 'too long' } }
    expect(() => parseOpenAIResponse(body)).toThrow(
      expect.objectContaining({ kind: 'context_window' }),
    )
  })

  it('returns tool calls that share nothing with the body', () => {
    const call = { id: 'c', function: { name: 'f', arguments: '{}' } }
    const response = parseOpenAIResponse(completion({ content: 'hi', tool_calls: [call] }))
    expect(response.toolCalls[0]).not.toBe(call)
    expect(response.toolCalls[0]).toEqual({ id: 'c', name: 'f', arguments: '{}' })
  })
})

const fn = fc.record(
  { name: mostly(fc.string({ maxLength: 3 })), arguments: mostly(nullishString) },
  { requiredKeys: [] },
)
const message = fc.record(
  {
    role: fc.constant('assistant'),
    content: mostly(nullishString),
    reasoning: mostly(nullishString),
    reasoning_content: mostly(nullishString),
    tool_calls: mostly(
      fc.oneof(
        fc.constantFrom(undefined, null),
        fc.array(
          mostly(
            fc.record(
              { id: mostly(nullishString), type: fc.constant('function'), function: mostly(fn) },
              { requiredKeys: [] },
            ),
          ),
          { maxLength: 2 },
        ),
      ),
    ),
    function_call: mostly(fc.oneof(fc.constantFrom(undefined, null), fn)),
    refusal: anyValue,
  },
  { requiredKeys: [] },
)
const choice = fc.record(
  {
    index: fc.nat({ max: 2 }),
    message: mostly(message),
    finish_reason: mostly(fc.oneof(nullishString, fc.constantFrom('stop', 'tool_calls'))),
  },
  { requiredKeys: [] },
)
/** Chat completion bodies: mostly plain, often with one part of an odd shape. */
const body = mostly(
  fc.record(
    {
      id: fc.constant('chatcmpl-1'),
      choices: mostly(fc.array(mostly(choice), { maxLength: 2 })),
      usage: mostly(fc.oneof(fc.constantFrom(undefined, null), usage)),
    },
    { requiredKeys: ['choices'] },
  ),
)

describe('isPlainCompletion', () => {
  test.prop([body], { numRuns: 3_000 })(
    'never takes as plain a body the schema would reject or read otherwise',
    (value) => {
      if (!isPlainCompletion(value)) return
      // Plain means the fast path answers exactly what the schema path answers.
      expect(parseOpenAIResponse(value)).toEqual(parseOpenAIResponseWithSchema(value))
    },
  )

  it('takes the bodies OpenAI sends as plain, so they skip the schema', () => {
    for (const file of [
      'openai/chat-completion-text.json',
      'openai/chat-completion-tool-calls.json',
      'azure/chat-completion-with-content-filter-results.json',
    ]) {
      expect(isPlainCompletion(readRecordedJson(file))).toBe(true)
    }
  })

  it('leaves to the schema content as parts, object arguments and oddly written usage', () => {
    expect(isPlainCompletion(completion({ content: [{ type: 'text', text: 'a' }] }))).toBe(false)
    expect(
      isPlainCompletion(completion({ tool_calls: [{ function: { name: 'f', arguments: {} } }] })),
    ).toBe(false)
    expect(isPlainCompletion(completion({ content: 'a' }, { usage: { prompt_tokens: '7' } }))).toBe(
      false,
    )
  })
})

describe('mapOpenAIFinishReason', () => {
  it.each([
    ['stop', 'stop'],
    ['length', 'length'],
    ['tool_calls', 'tool_calls'],
    ['function_call', 'tool_calls'],
    ['content_filter', 'content_filter'],
    ['eos', 'other'],
    ['', 'other'],
    [null, 'other'],
    [undefined, 'other'],
  ] as const)('maps %o to %s', (reason, expected) => {
    expect(mapOpenAIFinishReason(reason)).toBe(expected)
  })
})
