import { describe, expect, it } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import { continuationRequest } from './continuation.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { streamSetup } from './test-support/stream-setup.js'

const outcomes = (
  attempts: readonly { target: string; outcome: string; error?: { kind: string } }[] = [],
) =>
  attempts.map(
    (attempt) =>
      `${attempt.target} ${attempt.outcome}${attempt.error ? ` ${attempt.error.kind}` : ''}`,
  )

describe('continuationRequest', () => {
  const request: ChatRequest = deepFreeze({
    model: 'a/m1',
    messages: [{ role: 'user', content: 'Count to five' }],
  })

  it('adds the delivered text as the assistant prefix, without writing the request', () => {
    expect(continuationRequest(request, 'One, two').messages).toEqual([
      { role: 'user', content: 'Count to five' },
      { role: 'assistant', content: 'One, two' },
    ])
  })

  it("extends the caller's own assistant prefix", () => {
    const prefilled: ChatRequest = deepFreeze({
      ...request,
      messages: [...request.messages, { role: 'assistant', content: '{"n":' }],
    })
    expect(continuationRequest(prefilled, ' 1,').messages.at(-1)).toEqual({
      role: 'assistant',
      content: '{"n": 1,',
    })
  })
})

describe("client.stream with midStream: 'continue'", () => {
  it('asks the next target that takes a prefix to continue, delivering nothing twice', async () => {
    const { run, b } = streamSetup(
      {
        a: { m1: [{ chunks: ['One, ', 'two'], end: { fail: 'network' } }] },
        b: { m2: [{ chunks: [', three'] }] },
      },
      {},
      ['b'],
    )
    const result = await run({ fallbacks: ['b/m2'], midStream: 'continue' })
    expect(result.error).toBeUndefined()
    expect(result.events.filter((event) => event.type === 'start')).toHaveLength(1)
    expect(result.text).toBe('One, two, three')
    expect(b.streams[0]?.request.messages.at(-1)).toEqual({
      role: 'assistant',
      content: 'One, two',
    })
    expect(result.response.value).toMatchObject({ text: 'One, two, three', target: 'b/m2' })
    expect(outcomes(result.response.value?.attempts)).toEqual([
      'a/m1 error stream_interrupted',
      'b/m2 ok',
    ])
  })

  it('refuses when the partial answer holds tool calls, saying why', async () => {
    const { run, b } = streamSetup(
      {
        a: {
          m1: [
            {
              chunks: [
                { type: 'tool-call-delta', index: 0, id: 'c', name: 'f', argumentsDelta: '{' },
              ],
              end: { fail: 'network' },
            },
          ],
        },
      },
      {},
      ['b'],
    )
    const result = await run({ fallbacks: ['b/m2'], midStream: 'continue' })
    expect(result.error?.kind).toBe('stream_interrupted')
    expect(result.error?.message).toContain(
      'continuation refused: the partial answer holds tool calls',
    )
    expect(b.streams).toHaveLength(0)
  })

  it('passes over targets that cannot take a prefix, recording the reason', async () => {
    const { run, b, c } = streamSetup(
      {
        a: { m1: [{ chunks: ['Hel'], end: { fail: 'server' } }] },
        c: { m3: [{ chunks: ['lo'] }] },
      },
      {},
      ['c'],
    )
    const result = await run({ fallbacks: ['b/m2', 'c/m3'], midStream: 'continue' })
    expect(result.text).toBe('Hello')
    expect(b.streams).toHaveLength(0)
    const skipped = result.response.value?.attempts[1]
    expect(skipped).toMatchObject({
      target: 'b/m2',
      outcome: 'skipped',
      error: { kind: 'unsupported' },
    })
    expect(skipped?.error?.message).toContain('takes no assistant prefix')
    expect(c.streams).toHaveLength(1)
  })

  it('ends interrupted, with the first failure as cause, when no target can continue', async () => {
    const { run } = streamSetup({ a: { m1: [{ chunks: ['Hel'], end: { fail: 'server' } }] } })
    const result = await run({ fallbacks: ['b/m2'], midStream: 'continue' })
    expect(result.error).toMatchObject({
      kind: 'stream_interrupted',
      partial: { text: 'Hel' },
      cause: { kind: 'server' },
    })
    expect(result.error?.message).toContain('no target could continue it')
  })

  it('retries and falls back among continuing targets before their first content', async () => {
    const { run } = streamSetup(
      {
        a: { m1: [{ chunks: ['Hel'], end: { fail: 'server' } }] },
        b: { m2: [{ end: { fail: 'overloaded' } }] },
        c: { m3: [{ chunks: ['lo'] }] },
      },
      {},
      ['b', 'c'],
    )
    const result = await run({ fallbacks: ['b/m2', 'c/m3'], midStream: 'continue', retries: 0 })
    expect(result.text).toBe('Hello')
    expect(outcomes(result.response.value?.attempts)).toEqual([
      'a/m1 error stream_interrupted',
      'b/m2 error overloaded',
      'c/m3 ok',
    ])
  })

  it("does not continue after the caller's own abort", async () => {
    const controller = new AbortController()
    const { client, read, b, clock } = streamSetup(
      { a: { m1: [{ chunks: ['Hel', { type: 'text', text: 'lo', delayMs: 1_000 }] }] } },
      {},
      ['b'],
    )
    clock.setTimeout(() => controller.abort(), 10)
    const result = await read(
      client.stream(
        { model: 'a/m1', messages: [{ role: 'user', content: 'hi' }] },
        { fallbacks: ['b/m2'], midStream: 'continue', signal: controller.signal },
      ),
    )
    expect(result.error).toMatchObject({ kind: 'aborted', partial: { text: 'Hel' } })
    expect(b.streams).toHaveLength(0)
  })
})
