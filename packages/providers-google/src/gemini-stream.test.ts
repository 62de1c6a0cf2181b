import { isUnderstudyError, type ProviderStreamEvent, stateOrigin } from '@understudy/core'
import type { SseMessage } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import { createGeminiStreamParser } from './gemini-stream.js'
import { thrownBy } from './test-support/harness.js'
import { readRecordedStream, recordedBodies } from './test-support/recorded.js'

const origin = {
  provider: 'google',
  origin: stateOrigin({
    provider: 'google',
    model: 'gemini-3-pro-preview',
    baseURL: 'https://generativelanguage.googleapis.com/v1beta',
    apiKey: 'key-a',
  }),
}

/** Every event a parser makes of `messages`, its `end()` included. */
function run(messages: readonly SseMessage[]): ProviderStreamEvent[] {
  const parser = createGeminiStreamParser(origin)
  return [...messages.flatMap((message) => parser.push(message)), ...parser.end()]
}

const data = (body: unknown): SseMessage => ({ event: undefined, data: JSON.stringify(body) })

describe('createGeminiStreamParser', () => {
  it('has an expected outcome for every recorded stream', () => {
    const streams = recordedBodies().filter((file) => file.endsWith('.sse'))
    expect(streams.sort()).toEqual(['gemini/stream-function-call.sse', 'gemini/stream-text.sse'])
  })

  it('reads stream-text.sse: text pieces, then one finish with the last usage', () => {
    const events = run(readRecordedStream('gemini/stream-text.sse'))
    const text = events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('')
    expect(text).toBe(Array.from({ length: 30 }, (_, i) => i + 1).join('\n'))
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 18, outputTokens: 115, totalTokens: 133, reasoningTokens: 35 },
    })
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1)
  })

  it('reads stream-function-call.sse: one whole tool-call delta, tool_calls, and the signature as providerState', () => {
    const events = run(readRecordedStream('gemini/stream-function-call.sse'))
    expect(events[0]).toEqual({
      type: 'tool-call-delta',
      index: 0,
      id: 'call_QUVVadTSNJ6_qtsPvN7J8Q0_0',
      name: 'get_country',
      argumentsDelta: '{}',
    })
    const finish = events.at(-1)
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'tool_calls' })
    const state = finish?.type === 'finish' ? finish.providerState : undefined
    expect(state?.origin).toBe(origin.origin)
    expect(state?.data).toEqual({ calls: [expect.stringMatching(/^EpwICpkIAXLI2nx/)] })
    expect(events).toHaveLength(2)
  })

  it('reads thought parts as reasoning events', () => {
    const events = run([
      data({ candidates: [{ content: { parts: [{ text: 'Hmm.', thought: true }] } }] }),
      data({ candidates: [{ content: { parts: [{ text: 'OK' }] }, finishReason: 'STOP' }] }),
    ])
    expect(events.slice(0, 2)).toEqual([
      { type: 'reasoning', text: 'Hmm.' },
      { type: 'text', text: 'OK' },
    ])
  })

  it('fails a body that ends without a finishReason with kind incomplete', () => {
    const parser = createGeminiStreamParser(origin)
    expect(parser.push(data({ candidates: [{ content: { parts: [{ text: 'Par' }] } }] }))).toEqual([
      { type: 'text', text: 'Par' },
    ])
    expect(
      isUnderstudyError(
        thrownBy(() => parser.end()),
        'incomplete',
      ),
    ).toBe(true)
  })

  it('fails an error event with the kind it names, and a blocked prompt with content_policy', () => {
    const parser = createGeminiStreamParser(origin)
    const overloaded = thrownBy(() =>
      parser.push(data({ error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } })),
    )
    expect(isUnderstudyError(overloaded, 'overloaded')).toBe(true)
    const blocked = thrownBy(() =>
      createGeminiStreamParser(origin).push(data({ promptFeedback: { blockReason: 'SAFETY' } })),
    )
    expect(isUnderstudyError(blocked, 'content_policy')).toBe(true)
  })

  it('fails an event that is not JSON or not a response with kind server', () => {
    const parser = createGeminiStreamParser(origin)
    expect(
      isUnderstudyError(
        thrownBy(() => parser.push({ event: undefined, data: '{"oops"' })),
        'server',
      ),
    ).toBe(true)
    expect(
      isUnderstudyError(
        thrownBy(() => parser.push(data([1]))),
        'server',
      ),
    ).toBe(true)
  })

  it('ignores empty data and anything after end()', () => {
    const parser = createGeminiStreamParser(origin)
    expect(parser.push({ event: undefined, data: ' ' })).toEqual([])
    parser.push(
      data({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }] }),
    )
    expect(parser.end()).toHaveLength(1)
    expect(parser.end()).toEqual([])
    expect(parser.push(data({ candidates: [] }))).toEqual([])
  })
})
