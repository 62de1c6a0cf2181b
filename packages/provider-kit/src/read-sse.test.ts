import { readFile } from 'node:fs/promises'
import { fc, test } from '@fast-check/vitest'
import { isUnderstudyError } from '@understudy/core'
import { startFakeOpenAI } from '@understudy/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { SseMessage } from './provider-spec.js'
import { readSse } from './read-sse.js'
import { sendRequest } from './send-request.js'

const encoder = new TextEncoder()

async function* chunked(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<SseMessage[]> {
  const out: SseMessage[] = []
  for await (const message of readSse(body)) out.push(message)
  return out
}

/** `bytes` cut at the given offsets (any order, repeats allowed). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let start = 0
  for (const end of [...at, bytes.length]) {
    pieces.push(bytes.subarray(start, end))
    start = end
  }
  return pieces
}

/** Every byte its own chunk: each multi-byte character and each `\r\n` is split. */
const byteByByte = (bytes: Uint8Array): Uint8Array[] =>
  Array.from(bytes, (_byte, i) => bytes.subarray(i, i + 1))

/** Text on one line — emoji, CJK, combining marks, every Unicode character but a line break. */
const lineText = fc
  .string({ unit: 'grapheme', maxLength: 20 })
  .map((text) => text.replace(/[\r\n]/g, ''))

interface GeneratedEvent {
  readonly comments: readonly string[]
  readonly event: string | undefined
  readonly id: string | undefined
  readonly dataLines: readonly string[]
}

const generatedEvent: fc.Arbitrary<GeneratedEvent> = fc.record({
  comments: fc.array(lineText, { maxLength: 2 }),
  event: fc.option(
    lineText.filter((name) => name !== ''),
    { nil: undefined },
  ),
  id: fc.option(lineText, { nil: undefined }),
  dataLines: fc.array(lineText, { minLength: 1, maxLength: 4 }),
})

/** The wire text of the events, every line ended by `end`. */
function wire(events: readonly GeneratedEvent[], end: string): string {
  return events
    .map((event) => {
      const lines = [
        ...event.comments.map((comment) => `:${comment}`),
        ...(event.event === undefined ? [] : [`event: ${event.event}`]),
        ...(event.id === undefined ? [] : [`id: ${event.id}`]),
        ...event.dataLines.map((line) => `data: ${line}`),
      ]
      return `${lines.map((line) => line + end).join('')}${end}`
    })
    .join('')
}

const expected = (events: readonly GeneratedEvent[]): SseMessage[] =>
  events.map((event) => ({ event: event.event, data: event.dataLines.join('\n') }))

describe('readSse', () => {
  test.prop([
    fc.array(generatedEvent, { maxLength: 8 }),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.array(fc.nat(), { maxLength: 40 }),
  ])(
    'yields the same messages however the bytes are split into chunks',
    async (events, end, cuts) => {
      const bytes = encoder.encode(wire(events, end))
      expect(await collect(chunked(split(bytes, cuts)))).toEqual(expected(events))
    },
  )

  test.prop([
    fc.array(generatedEvent, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('\n', '\r\n'),
  ])('yields the same messages when every byte comes alone', async (events, end) => {
    const bytes = encoder.encode(wire(events, end))
    expect(await collect(chunked(byteByByte(bytes)))).toEqual(expected(events))
  })

  it('joins multi-line data with \\n and skips comments and id/retry fields', async () => {
    const text =
      ': keep-alive\nevent: delta\nid: 7\nretry: 1000\ndata: {"a":\ndata: 1}\n\n:ping\n\ndata: [DONE]\n\n'
    expect(await collect(chunked([encoder.encode(text)]))).toEqual([
      { event: 'delta', data: '{"a":\n1}' },
      { event: undefined, data: '[DONE]' },
    ])
  })

  it('decodes a UTF-8 character split across chunks, and a byte-order mark split too', async () => {
    const bytes = encoder.encode('\uFEFFdata: héllo 🌍 世界\r\n\r\n')
    const pieces = byteByByte(bytes)
    expect(await collect(chunked(pieces))).toEqual([{ event: undefined, data: 'héllo 🌍 世界' }])
  })

  it('drops an event the body ends before its blank line, as the SSE standard says', async () => {
    const text = 'data: complete\n\ndata: cut short\n'
    expect(await collect(chunked([encoder.encode(text)]))).toEqual([
      { event: undefined, data: 'complete' },
    ])
  })

  it('ends an event whose last line break is a lone \\r at the very end of the body', async () => {
    const text = 'data: one\r\rdata: two\r\r'
    expect(await collect(chunked([encoder.encode(text)]))).toEqual([
      { event: undefined, data: 'one' },
      { event: undefined, data: 'two' },
    ])
  })

  it('returns the body iterator when the consumer leaves early', async () => {
    let returned = false
    let pulled = 0
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          pulled++
          return { done: false, value: encoder.encode(`data: ${pulled}\n\n`) }
        },
        return: async () => {
          returned = true
          return { done: true, value: undefined }
        },
      }),
    }
    for await (const message of readSse(body)) {
      expect(message.data).toBe('1')
      break
    }
    expect(returned).toBe(true)
    expect(pulled).toBe(1)
  })

  it('gives up a line longer than maxEventSize with kind server', async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 100; i++) yield encoder.encode('data: xxxxxxxxxxxxxxxxxxxx')
    }
    const read = async (): Promise<void> => {
      for await (const _message of readSse(endless(), { maxEventSize: 1000 })) {
        // Nothing comes: the one line never ends.
      }
    }
    const error = await read().catch((thrown: unknown) => thrown)
    expect(isUnderstudyError(error, 'server')).toBe(true)
  })

  it.each([
    ['openai/stream-text-with-usage.sse'],
    ['openai/stream-in-band-error-openrouter.sse'],
    ['openai/stream-event-error-groq.sse'],
    ['anthropic/stream-text.sse'],
    ['anthropic/stream-tool-use-with-server-tool.sse'],
    ['gemini/stream-text.sse'],
    ['other/sglang-stream-context-length-error.sse'],
  ])('reads the recorded %s the same whole and byte by byte', async (path) => {
    const bytes = await readFile(new URL(`../../../fixtures/${path}`, import.meta.url))
    const whole = await collect(chunked([bytes]))
    expect(whole.length).toBeGreaterThan(0)
    for (const message of whole) {
      if (message.data !== '[DONE]') expect(() => JSON.parse(message.data)).not.toThrow()
    }
    expect(await collect(chunked(byteByByte(bytes)))).toEqual(whole)
  })

  it('closes the connection of a real stream the consumer leaves early', async () => {
    const server = await startFakeOpenAI()
    onTestFinished(() => server.close())
    server.script('m', { fault: 'stall', afterEvents: 2 })
    const response = await sendRequest({
      url: `${server.url}/v1/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [] }),
    })
    for await (const message of readSse(response.body)) {
      expect(JSON.parse(message.data)).toHaveProperty('choices')
      break
    }
    expect((await server.settled(0)).closedEarly).toBe(true)
  })
})
