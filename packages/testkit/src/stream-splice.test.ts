import { fc, test } from '@fast-check/vitest'
import {
  type ChatResponse,
  createClient,
  type ErrorKind,
  isUnderstudyError,
  type StreamEvent,
} from '@understudy/core'
import { describe, expect } from 'vitest'
import { type FakeClock, fakeClock } from './fake-clock.js'
import { type MockProvider, mockProvider } from './mock-provider.js'
import type { MockStep } from './mock-step.js'

/** What one scripted attempt does, before its texts are made unique. */
type Plan =
  | { readonly type: 'fail'; readonly kind: ErrorKind; readonly delayMs: number }
  | { readonly type: 'fail-on-read'; readonly kind: ErrorKind }
  | { readonly type: 'empty' }
  | { readonly type: 'no-content-no-terminal' }
  | { readonly type: 'ok'; readonly chunks: number; readonly delayMs: number }
  | { readonly type: 'cut'; readonly chunks: number; readonly kind: ErrorKind }
  | { readonly type: 'cut-no-terminal'; readonly chunks: number }

const models = ['t0', 't1', 't2'] as const

const failKind = fc.constantFrom<ErrorKind>(
  'server',
  'overloaded',
  'rate_limit',
  'network',
  'timeout',
  'auth',
  'unknown',
  'invalid_request',
)

const plan: fc.Arbitrary<Plan> = fc.oneof(
  fc.record({
    type: fc.constant('fail' as const),
    kind: failKind,
    delayMs: fc.constantFrom(0, 30),
  }),
  fc.record({ type: fc.constant('fail-on-read' as const), kind: failKind }),
  fc.constant({ type: 'empty' as const }),
  fc.constant({ type: 'no-content-no-terminal' as const }),
  fc.record({
    type: fc.constant('ok' as const),
    chunks: fc.integer({ min: 1, max: 4 }),
    delayMs: fc.constantFrom(0, 10, 80),
  }),
  fc.record({
    type: fc.constant('cut' as const),
    chunks: fc.integer({ min: 1, max: 4 }),
    kind: failKind,
  }),
  fc.record({
    type: fc.constant('cut-no-terminal' as const),
    chunks: fc.integer({ min: 1, max: 3 }),
  }),
)

/** The text pieces of step `step` of `model`: unique to that attempt, so a mix shows. */
function pieces(model: string, step: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `<${model}.${step}.${i}>`)
}

function stepOf(model: string, index: number, p: Plan): MockStep {
  switch (p.type) {
    case 'fail':
      return { fail: p.kind, ...(p.delayMs > 0 && { delayMs: p.delayMs }) }
    case 'fail-on-read':
      return { failOnRead: p.kind }
    case 'empty':
      return { stream: [] }
    case 'no-content-no-terminal':
      return { stream: [], end: 'no-terminal' }
    case 'ok':
      return {
        stream: pieces(model, index, p.chunks),
        ...(p.delayMs > 0 && { delayMs: p.delayMs }),
      }
    case 'cut':
      return { stream: pieces(model, index, p.chunks), end: { fail: p.kind } }
    case 'cut-no-terminal':
      return { stream: pieces(model, index, p.chunks), end: 'no-terminal' }
    default:
      return p satisfies never
  }
}

/** The whole text step `index` of `model` streams, or `undefined` for a step with none. */
function textOf(model: string, index: number, p: Plan): string | undefined {
  if (p.type === 'ok' || p.type === 'cut' || p.type === 'cut-no-terminal') {
    return pieces(model, index, p.chunks).join('')
  }
  return undefined
}

type Plans = readonly [readonly Plan[], readonly Plan[], readonly Plan[]]

/** A stream as the oracle reads it: core's, or a naive one to prove the oracle can fail. */
type MakeStream = (
  provider: MockProvider,
  clock: FakeClock,
  retries: number,
  hedgeAfterMs: number | undefined,
) => AsyncIterable<StreamEvent> & { readonly response: Promise<ChatResponse> }

const coreStream: MakeStream = (provider, clock, retries, hedgeAfterMs) =>
  createClient({
    providers: [provider],
    clock,
    random: () => 0.5,
    retries,
    health: { cooldownMs: 0 },
  }).stream(
    { model: 'p/t0', messages: [{ role: 'user', content: 'hi' }] },
    { fallbacks: ['p/t1', 'p/t2'], ...(hedgeAfterMs !== undefined && { hedgeAfterMs }) },
  )

/**
 * A naive engine: each model in turn, every event forwarded as it comes,
 * moving on at any failure — after content too. What the commit point exists to prevent.
 */
const naiveStream: MakeStream = (provider) => {
  const events: StreamEvent[] = []
  let text = ''
  const run = (async (): Promise<ChatResponse> => {
    for (const model of models) {
      try {
        for await (const event of provider.stream(
          { model, messages: [{ role: 'user', content: 'hi' }] },
          {
            signal: new AbortController().signal,
            apiKey: undefined,
            baseURL: undefined,
            headers: undefined,
            deadline: Infinity,
          },
        )) {
          events.push(event)
          if (event.type === 'text') text += event.text
          if (event.type === 'finish') {
            return {
              text,
              message: { role: 'assistant', content: text },
              toolCalls: [],
              finishReason: event.finishReason,
              usage: event.usage,
              provider: 'p',
              model,
              target: `p/${model}`,
              attempts: [],
            }
          }
        }
      } catch {
        // On to the next model.
      }
    }
    throw new Error('every model failed')
  })()
  return {
    response: run,
    async *[Symbol.asyncIterator]() {
      await run.catch(() => undefined)
      yield* events
    },
  }
}

/** The problems with one streamed call over `plans`: empty when the caller got exactly one attempt's text. */
async function problemsOf(
  plans: Plans,
  retries: number,
  hedgeAfterMs: number | undefined,
  make: MakeStream,
): Promise<string[]> {
  const clock = fakeClock()
  const scripts = Object.fromEntries(
    models.map((model, m) => [model, plans[m]?.map((p, index) => stepOf(model, index, p)) ?? []]),
  )
  const provider = mockProvider('p', scripts, { clock })
  const stream = make(provider, clock, retries, hedgeAfterMs)
  const events: StreamEvent[] = []
  const reading = (async () => {
    for await (const event of stream) events.push(event)
  })()
  await clock.settle(reading)
  const outcome = await clock.settle<ChatResponse>(stream.response)
  const received = events.map((event) => (event.type === 'text' ? event.text : '')).join('')
  const problems: string[] = []

  /** The text of the step the last call of `model` played. */
  const lastPlayed = (model: string): string | undefined => {
    const m = models.indexOf(model as (typeof models)[number])
    const steps = plans[m] ?? []
    const calls = provider.calls.filter((call) => call.model === model).length
    const index = Math.min(calls - 1, steps.length - 1)
    const p = steps[index]
    return p === undefined ? undefined : textOf(model, index, p)
  }

  if (outcome.status === 'fulfilled') {
    const winner = outcome.value
    if (received !== lastPlayed(winner.model))
      problems.push(`received ${received}, not the winner's ${lastPlayed(winner.model)}`)
    if (winner.text !== received) problems.push(`response.text ${winner.text} is not ${received}`)
    const starts = events.filter((event) => event.type === 'start')
    if (starts.length !== 1 || events[0]?.type !== 'start' || starts[0]?.target !== winner.target)
      problems.push(`start events ${JSON.stringify(starts)} for winner ${winner.target}`)
  } else if (!isUnderstudyError(outcome.reason)) {
    problems.push(`rejected with ${String(outcome.reason)}, not an UnderstudyError`)
  } else if (outcome.reason.partial === undefined) {
    if (events.length > 0)
      problems.push(`failed before any commit, yet the caller saw ${events.length} events`)
  } else {
    const error = outcome.reason
    if (error.kind !== 'stream_interrupted') problems.push(`interrupted with kind ${error.kind}`)
    if (received !== error.partial?.text)
      problems.push(`received ${received}, partial ${error.partial?.text}`)
    // A scripted cut fails after all its chunks: the delivered prefix is that whole attempt's text.
    if (received !== lastPlayed(error.model ?? ''))
      problems.push(
        `received ${received}, not the interrupted attempt's ${lastPlayed(error.model ?? '')}`,
      )
    if (events.filter((event) => event.type === 'start').length !== 1)
      problems.push('not one start event')
    if (events.some((event) => event.type === 'finish'))
      problems.push('a finish event after an interruption')
  }
  if (clock.pending() !== 0) problems.push(`${clock.pending()} timers left`)
  return problems
}

const plans: fc.Arbitrary<Plans> = fc.tuple(
  fc.array(plan, { minLength: 1, maxLength: 3 }),
  fc.array(plan, { minLength: 1, maxLength: 3 }),
  fc.array(plan, { minLength: 1, maxLength: 3 }),
)
const retries = fc.integer({ min: 0, max: 2 })
const hedge = fc.option(fc.constantFrom(0, 20, 50), { nil: undefined })

describe('client.stream() over scripted mock providers', () => {
  test.prop([plans, retries, hedge], { numRuns: 150 })(
    "hands the caller exactly the winning attempt's text, or exactly the delivered prefix on interruption, never a mix",
    async (scripted, retryCount, hedgeAfterMs) => {
      expect(await problemsOf(scripted, retryCount, hedgeAfterMs, coreStream)).toEqual([])
    },
  )

  test('the property finds a naive engine that moves on after content and splices two attempts', async () => {
    const result = await fc.check(
      fc.asyncProperty(plans, async (scripted) => {
        return (await problemsOf(scripted, 0, undefined, naiveStream)).length === 0
      }),
      { numRuns: 200 },
    )
    expect(result.failed).toBe(true)
  })
})
