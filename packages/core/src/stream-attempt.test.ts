import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { createClient } from './create-client.js'
import { UnderstudyError } from './errors.js'
import { nextReady } from './next-ready.js'
import type { Provider } from './provider.js'
import type { ProviderStreamEvent, StreamEvent } from './stream-event.js'

/**
 * One stream's iterator that holds some of its events ready: `ready[i]`
 * says whether event `i` is waiting when asked for (taken through
 * `nextReady`) or comes a macrotask later through `next()`.
 */
class HeldEvents implements AsyncIterator<ProviderStreamEvent> {
  readonly #events: readonly ProviderStreamEvent[]
  readonly #ready: readonly boolean[]
  #at = 0
  readonly counts = { ready: 0, next: 0 }
  readonly #fails: { readonly at: number; readonly error: unknown } | undefined

  /** `fails`: `nextReady` throws `error` once `at` events have been taken. */
  constructor(
    events: readonly ProviderStreamEvent[],
    ready: readonly boolean[],
    fails?: { readonly at: number; readonly error: unknown },
  ) {
    this.#events = events
    this.#ready = ready
    this.#fails = fails
  }

  [nextReady](): IteratorResult<ProviderStreamEvent> | undefined {
    if (this.#fails !== undefined && this.#at >= this.#fails.at) throw this.#fails.error
    const event = this.#events[this.#at]
    if (event === undefined || this.#ready[this.#at] !== true) return undefined
    this.#at += 1
    this.counts.ready += 1
    return { done: false, value: event }
  }

  next(): Promise<IteratorResult<ProviderStreamEvent>> {
    this.counts.next += 1
    return new Promise((resolve) =>
      setTimeout(() => {
        const event = this.#events[this.#at]
        if (event === undefined) {
          resolve({ done: true, value: undefined })
          return
        }
        this.#at += 1
        resolve({ done: false, value: event })
      }, 0),
    )
  }
}

/** A provider whose streams are {@link HeldEvents} made by `make`, per model. */
function heldProvider(make: (model: string) => HeldEvents): Provider & { made: HeldEvents[] } {
  const made: HeldEvents[] = []
  return {
    id: 'held',
    made,
    complete: () => Promise.reject(new Error('not scripted')),
    stream(attempt) {
      const events = make(attempt.model)
      made.push(events)
      return { [Symbol.asyncIterator]: () => events }
    },
  }
}

const text = (piece: string): ProviderStreamEvent => ({ type: 'text', text: piece })
const stop: ProviderStreamEvent = {
  type: 'finish',
  finishReason: 'stop',
  usage: { inputTokens: 1, outputTokens: 1 },
}

const ask = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

describe('a provider stream that holds events ready (nextReady)', () => {
  test.prop(
    [
      fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { maxLength: 14 }),
    ],
    { numRuns: 200 },
  )('delivers every event once, in order, however many were waiting', async (pieces, ready) => {
    const events = [...pieces.map(text), stop]
    const provider = heldProvider(() => new HeldEvents(events, ready))
    const client = createClient({ providers: [provider], retries: 0 })
    const stream = client.stream(ask('held/m'))
    const seen = await collect(stream)
    const texts = seen.flatMap((event) => (event.type === 'text' ? [event.text] : []))
    expect(texts).toEqual(pieces)
    expect(seen.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
    expect((await stream.response).text).toBe(pieces.join(''))
    // Every event went through one door or the other, never both.
    const { counts } = provider.made[0] as HeldEvents
    expect(counts.ready).toBe(ready.slice(0, events.length).filter(Boolean).length)
  })

  it('takes a burst of waiting events without a next() each', async () => {
    const events = [text('a'), text('b'), text('c'), text('d'), stop]
    const provider = heldProvider(() => new HeldEvents(events, [false, true, true, true, true]))
    const client = createClient({ providers: [provider], retries: 0 })
    expect((await client.stream(ask('held/m')).response).text).toBe('abcd')
    // One next() for the first event, one for the end of the stream.
    expect((provider.made[0] as HeldEvents).counts.next).toBe(2)
  })

  it('counts a nextReady that throws before the first content as the attempt failing: the fallback answers', async () => {
    const broken = new UnderstudyError({ kind: 'server', message: 'held/broken: parse error' })
    const provider = heldProvider((model) =>
      model === 'broken'
        ? new HeldEvents([text('x')], [true], { at: 0, error: broken })
        : new HeldEvents([text('fine'), stop], [true, true]),
    )
    const client = createClient({ providers: [provider], retries: 0 })
    const stream = client.stream(ask('held/broken'), { fallbacks: ['held/ok'] })
    const texts = (await collect(stream)).flatMap((event) =>
      event.type === 'text' ? [event.text] : [],
    )
    expect(texts).toEqual(['fine'])
    const response = await stream.response
    expect(response.attempts.map((attempt) => `${attempt.target} ${attempt.outcome}`)).toEqual([
      'held/broken error',
      'held/ok ok',
    ])
    expect(response.attempts[0]?.error?.kind).toBe('server')
  })

  it('ends the stream as stream_interrupted, with the partial text, when nextReady throws after the first content', async () => {
    const provider = heldProvider(
      () =>
        new HeldEvents([text('one '), text('two'), stop], [true, true, true], {
          at: 1,
          error: new Error('gone'),
        }),
    )
    const client = createClient({ providers: [provider], retries: 0 })
    const stream = client.stream(ask('held/m'))
    const texts: string[] = []
    const failure = await (async () => {
      for await (const event of stream) if (event.type === 'text') texts.push(event.text)
    })().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(texts).toEqual(['one '])
    expect(failure).toBeInstanceOf(UnderstudyError)
    expect((failure as UnderstudyError).kind).toBe('stream_interrupted')
    expect((failure as UnderstudyError).partial?.text).toBe('one ')
  })

  it('makes a read asked for inside a failure it already holds wait its turn, then end', async () => {
    let iterator: AsyncIterator<StreamEvent> | undefined
    let hookRead: Promise<IteratorResult<StreamEvent>> | undefined
    const provider = heldProvider(
      () => new HeldEvents([text('one '), stop], [true, true], { at: 1, error: new Error('gone') }),
    )
    const client = createClient({
      providers: [provider],
      retries: 0,
      // Runs inside the read that finds the failure: its own read must wait its turn.
      hooks: {
        onFailure: () => {
          hookRead = iterator?.next()
        },
      },
    })
    const stream = client.stream(ask('held/m'))
    iterator = stream[Symbol.asyncIterator]()
    expect(await iterator.next()).toMatchObject({ value: { type: 'start' } })
    expect(await iterator.next()).toMatchObject({ value: { type: 'text', text: 'one ' } })
    const failed = await iterator.next().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect((failed as UnderstudyError).kind).toBe('stream_interrupted')
    expect(hookRead).toBeDefined()
    expect(await hookRead).toEqual({ done: true, value: undefined })
  })
})
