import { isUnderstudyError, stateOrigin } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { mapGeminiFinishReason } from './gemini-answer.js'
import { parseGeminiResponse } from './gemini-response.js'
import { thrownBy } from './test-support/harness.js'
import { readRecordedJson, recordedBodies } from './test-support/recorded.js'

const origin = {
  provider: 'google',
  origin: stateOrigin({
    provider: 'google',
    model: 'gemini-3-pro-preview',
    baseURL: 'https://generativelanguage.googleapis.com/v1beta',
    apiKey: 'key-a',
  }),
}
const info = { status: 200, requestId: undefined }

function parse(body: unknown): ReturnType<typeof parseGeminiResponse> {
  return parseGeminiResponse(body, info, origin)
}

/** Every recorded 200 JSON body, and what it must become. */
const recordedAnswers = [
  'gemini/generate-content-finish-safety.json',
  'gemini/generate-content-function-call.json',
  'gemini/generate-content-prompt-blocked.json',
  'gemini/generate-content-text.json',
]

describe('parseGeminiResponse', () => {
  it('has an expected response for every recorded 200 JSON body', () => {
    const answers = recordedBodies().filter((file) => /\/generate-content-.*\.json$/.test(file))
    expect(answers.sort()).toEqual(recordedAnswers)
  })

  it('reads generate-content-text.json: text, stop, usage with thoughts in the output', () => {
    const response = parse(readRecordedJson('gemini/generate-content-text.json'))
    expect(response).toEqual({
      text: 'OK.',
      message: { role: 'assistant', content: 'OK.' },
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 6, outputTokens: 22, totalTokens: 28, reasoningTokens: 20 },
      status: 200,
      requestId: 'Uz5OarCUA6Pj7M8P7s2m2Qw',
    })
  })

  it('reads generate-content-function-call.json: a tool call with a made id, tool_calls, and the signature as providerState', () => {
    const response = parse(readRecordedJson('gemini/generate-content-function-call.json'))
    const call = {
      id: 'call_m36LaZGyCLz1xs0PtNSB-QU_0',
      name: 'weather',
      arguments: '{"location":"San Francisco"}',
    }
    expect(response.toolCalls).toEqual([call])
    expect(response.finishReason).toBe('tool_calls')
    expect(response.text).toBe('')
    expect(response.message).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [call],
      providerState: {
        provider: 'google',
        origin: origin.origin,
        data: {
          calls: [
            'EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5',
          ],
        },
      },
    })
    expect(response.usage).toEqual({
      inputTokens: 29,
      outputTokens: 908,
      totalTokens: 937,
      reasoningTokens: 893,
    })
  })

  it('reads generate-content-finish-safety.json as an empty content_filter answer', () => {
    const response = parse(readRecordedJson('gemini/generate-content-finish-safety.json'))
    expect(response.finishReason).toBe('content_filter')
    expect(response.text).toBe('')
    expect(response.usage).toEqual({ inputTokens: 14, totalTokens: 14 })
  })

  it('fails generate-content-prompt-blocked.json with kind content_policy naming the block reason', () => {
    const error = thrownBy(() =>
      parse(readRecordedJson('gemini/generate-content-prompt-blocked.json')),
    )
    expect(isUnderstudyError(error, 'content_policy')).toBe(true)
    expect((error as Error).message).toContain('PROHIBITED_CONTENT')
  })

  it('keeps Gemini ids, reads thought parts as reasoning and keeps their signatures and the text signature', () => {
    const response = parse({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'Let me think.', thought: true, thoughtSignature: 'sig-thought' },
              { text: 'Calling.', thoughtSignature: 'sig-text' },
              { functionCall: { id: 'fc-1', name: 'a', args: { x: 1 } } },
              { functionCall: { name: 'b' }, thoughtSignature: 'sig-b' },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    })
    expect(response.reasoning).toBe('Let me think.')
    expect(response.text).toBe('Calling.')
    expect(response.toolCalls.map((call) => [call.id, call.name, call.arguments])).toEqual([
      ['fc-1', 'a', '{"x":1}'],
      [expect.stringMatching(/^call_\w+_1$/), 'b', '{}'],
    ])
    expect(response.message.providerState?.data).toEqual({
      thoughts: [{ text: 'Let me think.', signature: 'sig-thought' }],
      text: 'sig-text',
      calls: [null, 'sig-b'],
    })
  })

  it('answers an empty candidate list (nothing blocked) with no content and finish other', () => {
    const response = parse({ candidates: [], usageMetadata: { promptTokenCount: 3 } })
    expect(response.text).toBe('')
    expect(response.finishReason).toBe('other')
  })

  it('classifies an error body sent with a 200 like the HTTP error it names', () => {
    const error = thrownBy(() =>
      parse({ error: { code: 429, message: 'slow', status: 'RESOURCE_EXHAUSTED' } }),
    )
    expect(isUnderstudyError(error, 'quota')).toBe(true)
  })

  it.each([
    ['a string', 'hello'],
    ['candidates not a list', { candidates: {} }],
    ['a part that is not an object', { candidates: [{ content: { parts: [3] } }] }],
    ['text that is not a string', { candidates: [{ content: { parts: [{ text: 3 }] } }] }],
    [
      'a function call without a name',
      { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] },
    ],
    [
      'args that are not an object',
      { candidates: [{ content: { parts: [{ functionCall: { name: 'a', args: [1] } }] } }] },
    ],
  ])('fails a body that is %s with kind server', (_, body) => {
    expect(
      isUnderstudyError(
        thrownBy(() => parse(body)),
        'server',
      ),
    ).toBe(true)
  })
})

describe('mapGeminiFinishReason', () => {
  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', true, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'],
    ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['SPII', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'other'],
    ['UNEXPECTED_TOOL_CALL', false, 'other'],
    ['OTHER', false, 'other'],
    ['LANGUAGE', false, 'other'],
    [undefined, false, 'other'],
  ] as const)('maps %s (tool calls: %s) to %s', (reason, hasToolCalls, expected) => {
    expect(mapGeminiFinishReason(reason, hasToolCalls)).toBe(expected)
  })
})
