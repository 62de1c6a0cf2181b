import {
  type Attempt,
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  createClient,
  type ErrorKind,
  isUnderstudyError,
  type Provider,
  type StreamEvent,
  type UnderstudyError,
} from '@understudy/core'
import { type FakeClock, fakeClock } from './fake-clock.js'
import type { FakeServer, RecordedRequest } from './fake-server.js'
import type { ServerSetup } from './run-provider-conformance.js'
import type { Reply } from './reply.js'
import { suiteTimeScale } from './time-scale.js'

/**
 * What the streaming-with-fallbacks suite takes: a provider on its fake
 * server (it serves both the primary and the fallback target of every
 * check), and how long its time limits are.
 */
export interface StreamFallbackSetup extends ServerSetup {
  /**
   * The real time, in ms, a check allows for what must happen over the
   * sockets: the hedge won by the primary holds the primary's headers back
   * this long (the hedged fallback's request must reach the server first),
   * and a check waits twice this long for a request to arrive, a connection
   * to close or a response to end (five times for a whole stream) before it
   * fails. Multiplied by `timeScale`. The client's own first-token, idle and
   * hedge timers run on a fake clock the checks move, so they never race
   * the machine's load.
   * @default 1000
   */
  readonly limitMs?: number
  /**
   * Multiplies `limitMs` (and each test's Vitest timeout): raise it on a
   * slow or busy machine. A positive number.
   * @default the number in the `UNDERSTUDY_TEST_TIME_SCALE` environment variable, or 1
   */
  readonly timeScale?: number
}

/** One check of the suite: a name that states the behaviour, and a run that throws when it does not hold. */
export interface StreamFallbackCheck {
  readonly name: string
  readonly run: () => Promise<void>
  /** The longest the check can take, failing included, in ms: a timeout for the test that runs it. */
  readonly timeoutMs: number
}

/** A check found the client, the provider or the fake server wanting. */
export class StreamFallbackFailure extends Error {
  override readonly name: string = 'StreamFallbackFailure'
}

/** The model names the checks script on the fake server. */
const primaryModel = 'primary-model'
const fallbackModel = 'fallback-model'
const apiKey = 'stream-fallback-key-7d2e41'

/** What the fallback answers, in these pieces. */
const fallbackPieces = ['Fallback', ' answer,', ' in', ' pieces.'] as const
const fallbackText = fallbackPieces.join('')

/** The text of the fake servers' stream faults (`drop-mid-stream`, `stall`, …). */
const faultText = 'Partial answer that will not finish.'

/**
 * Events of a fault stream that reach content in every dialect (OpenAI's
 * role chunk, Azure's prompt-filter chunk, Anthropic's start and ping come first).
 */
const contentEvents = 4

/** A stream whose headers say SSE and whose body ends at once: no content, no terminal signal. */
const emptyBody: Reply = {
  raw: { headers: { 'content-type': 'text/event-stream; charset=utf-8' }, body: '' },
}

/** What a caller saw of one stream, read to its end. */
interface Read {
  readonly events: readonly StreamEvent[]
  readonly text: string
  /** What the loop threw, if anything. */
  readonly thrown: unknown
  readonly response:
    | { readonly ok: true; readonly value: ChatResponse }
    | { readonly ok: false; readonly error: unknown }
}

/**
 * The client's time limits, in the fake clock's ms: never reached by the
 * clock standing still, reached exactly when a check moves it on.
 */
const firstTokenTimeoutMs = 1_000
const idleTimeoutMs = 1_000
const hedgeAfterMs = 300
/** The whole call's: far beyond any advance a check makes. */
const callTimeoutMs = 3_600_000

/** One check's world: a fake server, a client over the provider at it, and the client's fake clock. */
interface World {
  readonly server: FakeServer
  readonly provider: Provider
  readonly clock: FakeClock
  readonly primary: string
  readonly fallback: string
  readonly request: ChatRequest
  stream(
    options?: CallOptions,
  ): AsyncIterable<StreamEvent> & { readonly response: Promise<ChatResponse> }
}

/**
 * The streaming-with-fallbacks suite, written once for every dialect: with
 * the dialect's provider as primary and fallback in front of its fake server
 * over real sockets, it checks the commit point of `client.stream()` —
 * every failure before the first content falls back unseen, every failure
 * after it ends the stream with exactly the delivered `partial` — and that
 * abort, an early `break` and a lost hedge close the upstream connection (the
 * fake server sees it `closedEarly`). After every check no timer of the
 * client is pending and no response of the server is left open.
 *
 * Continuation (`midStream: 'continue'`) is checked as the provider allows:
 * handed to the fallback when it declares `assistantPrefix`, refused with the
 * reason in the trace when it does not. Each check starts its own server and
 * closes it.
 *
 * The client runs on a fake clock: a first-token, idle or hedge timer fires
 * when the check moves the clock, once the primary is where the check wants
 * it (its request arrived, its content read), and the fallback's own timers
 * never fire. Under any load, the primary's timeout cannot catch the
 * fallback too. What stays real (sockets, the fake server's delays, how long
 * a check waits before it fails) is bounded by `setup.limitMs` times
 * `setup.timeScale`.
 */
export function streamFallbackChecks(setup: StreamFallbackSetup): readonly StreamFallbackCheck[] {
  const limitMs = (setup.limitMs ?? 1_000) * suiteTimeScale(setup.timeScale)
  /** How long a check waits for a request, a close or a response's end before it fails. */
  const patienceMs = 2 * limitMs
  const seconds = (ms: number): string => `${Number((ms / 1_000).toFixed(1))} s`

  /** Runs `body` in a fresh world with the primary and fallback scripted; checks nothing was left behind. */
  const inWorld =
    (primary: Reply, body: (world: World) => Promise<void>, fallback?: Reply) =>
    async (): Promise<void> => {
      const server = await setup.startServer()
      try {
        server.script(primaryModel, primary)
        server.script(fallbackModel, fallback ?? { text: fallbackText, chunks: fallbackPieces })
        const provider = setup.provider({ baseURL: baseURLOf(server), apiKey })
        const clock = fakeClock()
        const client = createClient({
          providers: [provider],
          clock,
          retries: 0,
          health: { cooldownMs: 0 },
          timeoutMs: callTimeoutMs,
        })
        const request: ChatRequest = {
          model: `${provider.id}/${primaryModel}`,
          messages: [{ role: 'user', content: 'Say something.' }],
        }
        const fallbackTarget = `${provider.id}/${fallbackModel}`
        const world: World = {
          server,
          provider,
          clock,
          primary: request.model,
          fallback: fallbackTarget,
          request,
          stream: (options = {}) =>
            client.stream(request, { fallbacks: [fallbackTarget], ...options }),
        }
        await body(world)
        await leftNothing(world)
      } finally {
        await server.close()
      }
    }

  const baseURLOf = (server: FakeServer): string => setup.baseURL?.(server) ?? server.url

  /** No timer pending on the client's clock; every response the server began is over. */
  const leftNothing = async ({ server, clock }: World): Promise<void> => {
    const done = new Set<number>()
    const over = await within(
      Promise.all(
        server.requests.map((request) =>
          server.settled(request.index).then(() => done.add(request.index)),
        ),
      ),
      patienceMs,
    )
    if (over === undefined) {
      const open = server.requests.filter((request) => !done.has(request.index))
      throw new StreamFallbackFailure(
        `responses still open ${seconds(patienceMs)} after the call ended: ${open.map(describeRequest).join(', ')}`,
      )
    }
    // Timers are cleared when the call settles; give the last callbacks one turn.
    await new Promise((resolve) => setImmediate(resolve))
    if (clock.pending() !== 0) {
      throw new StreamFallbackFailure(
        `${clock.pending()} timer(s) still pending after the call ended`,
      )
    }
  }

  /** Falls back before the commit point: checks the caller saw only the fallback, and the trace. */
  const expectFallback = async (
    world: World,
    read: Read,
    primaryError: {
      readonly what: string
      readonly kind?: ErrorKind
      /** The primary's request reached the server. @default true */
      readonly reached?: boolean
    },
  ): Promise<void> => {
    const { what } = primaryError
    if (!read.response.ok) {
      throw new StreamFallbackFailure(
        `${what}: the call failed (${describe(read.response.error)}); it must fall back before the first content`,
      )
    }
    expectOneStart(read, world.fallback, what)
    expectText(read.text, fallbackText, `${what}: the text the caller received`)
    expectText(read.response.value.text, fallbackText, `${what}: response.text`)
    if (read.events.at(-1)?.type !== 'finish') {
      throw new StreamFallbackFailure(`${what}: the stream did not end with its finish event`)
    }
    const [first, second, ...rest] = read.response.value.attempts
    if (
      first?.target !== world.primary ||
      first.outcome !== 'error' ||
      second?.target !== world.fallback ||
      second.outcome !== 'ok' ||
      rest.length > 0
    ) {
      throw new StreamFallbackFailure(
        `${what}: the trace is ${describeTrace(read.response.value.attempts)}, expected the primary's error then the fallback's ok`,
      )
    }
    if (primaryError.kind !== undefined && first.error?.kind !== primaryError.kind) {
      throw new StreamFallbackFailure(
        `${what}: the primary's attempt failed with kind ${first.error?.kind}, expected ${primaryError.kind}`,
      )
    }
    const models = primaryError.reached === false ? [fallbackModel] : [primaryModel, fallbackModel]
    expectModels(world, models, what)
  }

  /** Ends after the commit point: checks the error, its `partial`, and that nothing fell back. */
  const expectInterrupted = (
    world: World,
    read: Read,
    expected: { readonly kind: ErrorKind; readonly cause?: ErrorKind; readonly what: string },
  ): UnderstudyError => {
    const { what } = expected
    if (read.response.ok) {
      throw new StreamFallbackFailure(
        `${what}: the call succeeded with ${JSON.stringify(read.response.value.text)}; it must end with kind ${expected.kind}`,
      )
    }
    const error = read.response.error
    if (!isUnderstudyError(error, expected.kind)) {
      throw new StreamFallbackFailure(
        `${what}: the call failed with ${describe(error)}, expected kind ${expected.kind}`,
      )
    }
    if (expected.cause !== undefined) {
      const cause = error.cause
      if (!isUnderstudyError(cause, expected.cause)) {
        throw new StreamFallbackFailure(
          `${what}: the cause is ${describe(cause)}, expected kind ${expected.cause}`,
        )
      }
    }
    expectOneStart(read, world.primary, what)
    if (read.events.some((event) => event.type === 'finish')) {
      throw new StreamFallbackFailure(
        `${what}: the caller got a finish event; an interrupted stream has none`,
      )
    }
    if (read.text === '' || !faultText.startsWith(read.text)) {
      throw new StreamFallbackFailure(
        `${what}: the caller received ${JSON.stringify(read.text)}, expected a non-empty prefix of the primary's ${JSON.stringify(faultText)}`,
      )
    }
    expectText(error.partial?.text, read.text, `${what}: error.partial.text`)
    if ((error.partial?.toolCalls.length ?? 0) !== 0) {
      throw new StreamFallbackFailure(`${what}: error.partial holds tool calls nobody streamed`)
    }
    return error
  }

  const expectOneStart = (read: Read, target: string, what: string): void => {
    const starts = read.events.filter((event) => event.type === 'start')
    if (read.events[0]?.type !== 'start' || starts.length !== 1 || starts[0]?.target !== target) {
      throw new StreamFallbackFailure(
        `${what}: the caller saw ${describeEvents(read.events)}; expected one start, first, for ${target}`,
      )
    }
  }

  /** The server received requests for exactly these models, in order. */
  const expectModels = (world: World, models: readonly string[], what: string): void => {
    const received = world.server.requests.map((request) => request.model)
    if (JSON.stringify(received) !== JSON.stringify(models)) {
      throw new StreamFallbackFailure(
        `${what}: the server received requests for ${JSON.stringify(received)}, expected ${JSON.stringify(models)}`,
      )
    }
  }

  const expectClosedEarly = async (world: World, index: number, what: string): Promise<void> => {
    const record = await within(world.server.settled(index), patienceMs)
    if (record === undefined || !record.closedEarly) {
      throw new StreamFallbackFailure(
        `${what}: the server never saw the connection of request ${index} (${world.server.requests[index]?.model}) closed early (waited ${seconds(patienceMs)})`,
      )
    }
  }

  const beforeCommit: readonly [string, Reply, ErrorKind | undefined, CallOptions][] = [
    ['an HTTP 503', { status: 503 }, 'overloaded', {}],
    ['an HTTP 429 with Retry-After', { status: 429, retryAfter: '1' }, 'rate_limit', {}],
    [
      'an in-band error frame before any content',
      { fault: 'in-band-error', afterEvents: 0 },
      undefined,
      {},
    ],
    ['a connection dropped before the response', { fault: 'drop' }, 'network', {}],
    [
      'a body dropped before its first event (an error on the first read)',
      { fault: 'drop-mid-stream', afterEvents: 0 },
      undefined,
      {},
    ],
    ['a malformed stream', { fault: 'malformed-sse' }, undefined, {}],
    [
      'headers that never come (first-token timeout)',
      { fault: 'hang' },
      'timeout',
      { firstTokenTimeoutMs },
    ],
    [
      'a stream that stalls before its first content (first-token timeout)',
      { fault: 'stall', afterEvents: 0 },
      'timeout',
      { firstTokenTimeoutMs },
    ],
    ['a stream that ends with no content', { text: '' }, 'empty', {}],
    ['a stream that ends without content or its terminal signal', emptyBody, 'incomplete', {}],
  ]

  const checks: Omit<StreamFallbackCheck, 'timeoutMs'>[] = [
    ...beforeCommit.map(([what, reply, kind, options]) => ({
      name: `falls back unseen on ${what}: the caller gets the fallback's text and one start`,
      run: inWorld(reply, async (world) => {
        const reading = started(readAll(world.stream(options)))
        const timeout = options.firstTokenTimeoutMs
        if (timeout !== undefined) {
          // The primary's first-token timer fires now, and only it: the
          // fallback's starts after this advance and is never reached.
          await primaryWaiting(world)
          await world.clock.advance(timeout)
        }
        const read = await reading
        await expectFallback(world, read, { what, ...(kind !== undefined && { kind }) })
        if (timeout !== undefined) await expectClosedEarly(world, 0, what)
      }),
    })),
    {
      name: "falls back unseen on a refused connection: the caller gets the fallback's text and one start",
      run: inWorld({ text: 'unused' }, async (world) => {
        const dead = await setup.startServer()
        const deadURL = baseURLOf(dead)
        await dead.close()
        const what = 'a refused connection'
        const read = await readAll(world.stream({ baseURL: deadURL, apiKey: 'dead-key' }))
        await expectFallback(world, read, { what, kind: 'network', reached: false })
      }),
    },
    {
      name: 'ends a stream dropped after its first content with stream_interrupted and exactly the delivered partial, never falling back',
      run: inWorld({ fault: 'drop-mid-stream', afterEvents: contentEvents }, async (world) => {
        const read = await readAll(world.stream())
        expectInterrupted(world, read, { kind: 'stream_interrupted', what: 'a dropped stream' })
        expectModels(world, [primaryModel], 'a dropped stream')
        expectSameError(read, 'a dropped stream')
      }),
    },
    {
      name: 'ends a stream idle past idleTimeoutMs with stream_interrupted (cause timeout), closing the connection',
      run: inWorld({ fault: 'stall', afterEvents: contentEvents }, async (world) => {
        // Each piece of content moves the clock on by the idle limit: once the
        // primary stalls, the advance after its last piece fires the timer.
        let advanced = Promise.resolve()
        const read = await readAll(world.stream({ idleTimeoutMs }), {
          afterText: () => {
            advanced = advanced.then(() => world.clock.advance(idleTimeoutMs))
          },
        })
        await advanced
        expectInterrupted(world, read, {
          kind: 'stream_interrupted',
          cause: 'timeout',
          what: 'an idle stream',
        })
        expectModels(world, [primaryModel], 'an idle stream')
        await expectClosedEarly(world, 0, 'an idle stream')
      }),
    },
    {
      name: 'ends a stream with an in-band error after content with stream_interrupted and the delivered partial',
      run: inWorld({ fault: 'in-band-error', afterEvents: contentEvents }, async (world) => {
        const read = await readAll(world.stream())
        expectInterrupted(world, read, {
          kind: 'stream_interrupted',
          what: 'an in-band error after content',
        })
        expectModels(world, [primaryModel], 'an in-band error after content')
      }),
    },
    {
      name: 'ends a stream that lost its terminal signal after content with stream_interrupted (cause incomplete), never a made-up finish',
      run: inWorld({ fault: 'no-terminal' }, async (world) => {
        const read = await readAll(world.stream())
        expectInterrupted(world, read, {
          kind: 'stream_interrupted',
          cause: 'incomplete',
          what: 'a stream without its terminal signal',
        })
        expectModels(world, [primaryModel], 'a stream without its terminal signal')
      }),
    },
    {
      name: 'ends with kind aborted and the delivered partial when the caller aborts mid-stream, closing the connection',
      run: inWorld({ fault: 'stall', afterEvents: contentEvents }, async (world) => {
        const controller = new AbortController()
        const read = await readAll(world.stream({ signal: controller.signal }), {
          afterText: () => controller.abort(),
        })
        const error = expectInterrupted(world, read, {
          kind: 'aborted',
          what: 'an abort mid-stream',
        })
        if (read.thrown !== error) {
          throw new StreamFallbackFailure(
            `an abort mid-stream: the loop threw ${describe(read.thrown)}, not the error response rejects with`,
          )
        }
        expectModels(world, [primaryModel], 'an abort mid-stream')
        await expectClosedEarly(world, 0, 'an abort mid-stream')
      }),
    },
    {
      name: 'ends with kind aborted when the caller aborts before the first content, closing the connection and falling back nowhere',
      run: inWorld({ fault: 'hang' }, async (world) => {
        const controller = new AbortController()
        const stream = world.stream({ signal: controller.signal })
        const reading = started(readAll(stream))
        await waitFor(() => world.server.requests.length === 1, 'the primary request to arrive')
        controller.abort()
        const read = await reading
        if (read.response.ok || !isUnderstudyError(read.response.error, 'aborted')) {
          throw new StreamFallbackFailure(
            `an abort before content: the call ended with ${read.response.ok ? 'success' : describe(read.response.error)}, expected kind aborted`,
          )
        }
        if (read.events.length > 0) {
          throw new StreamFallbackFailure(
            `an abort before content: the caller saw ${describeEvents(read.events)}`,
          )
        }
        expectModels(world, [primaryModel], 'an abort before content')
        await expectClosedEarly(world, 0, 'an abort before content')
      }),
    },
    {
      name: 'closes the connection when the caller breaks out of the loop, and response rejects with kind aborted',
      run: inWorld({ fault: 'stall', afterEvents: contentEvents }, async (world) => {
        const stream = world.stream()
        let text = ''
        for await (const event of stream) {
          if (event.type === 'text') {
            text = event.text
            break
          }
        }
        const outcome = await settle(stream.response)
        if (outcome.ok || !isUnderstudyError(outcome.error, 'aborted')) {
          throw new StreamFallbackFailure(
            `a break: response ended with ${outcome.ok ? 'success' : describe(outcome.error)}, expected kind aborted`,
          )
        }
        expectText(outcome.error.partial?.text, text, 'a break: error.partial.text')
        await expectClosedEarly(world, 0, 'a break')
      }),
    },
    ...(
      [
        ['headers that never come', { fault: 'hang' }],
        ['a stream with no content yet', { fault: 'stall', afterEvents: 0 }],
      ] as const
    ).map(([what, reply]) => ({
      name: `hedges after hedgeAfterMs past a primary with ${what}: the fallback's text only, the loser's connection closed, its attempt 'hedged'`,
      run: inWorld(reply, async (world) => {
        const what2 = `a hedge past ${what}`
        const reading = started(readAll(world.stream({ hedgeAfterMs })))
        await primaryWaiting(world)
        await world.clock.advance(hedgeAfterMs)
        const read = await reading
        if (!read.response.ok) {
          throw new StreamFallbackFailure(
            `${what2}: the call failed (${describe(read.response.error)})`,
          )
        }
        expectOneStart(read, world.fallback, what2)
        expectText(read.text, fallbackText, `${what2}: the text the caller received`)
        expectText(read.response.value.text, fallbackText, `${what2}: response.text`)
        const trace = read.response.value.attempts
        const outcomes = trace.map((attempt) => `${attempt.target} ${attempt.outcome}`).sort()
        const expected = [`${world.fallback} ok`, `${world.primary} hedged`].sort()
        if (JSON.stringify(outcomes) !== JSON.stringify(expected)) {
          throw new StreamFallbackFailure(
            `${what2}: the trace is ${describeTrace(trace)}, expected the primary hedged and the fallback ok`,
          )
        }
        expectModels(world, [primaryModel, fallbackModel], what2)
        await expectClosedEarly(world, 0, what2)
      }),
    })),
    {
      name: "hands the caller exactly the winner's text when a hedge is won by the primary",
      run: inWorld(
        {
          text: faultText,
          chunks: ['Partial', ' answer', ' that will not finish.'],
          // Real time: the hedged fallback's request must reach the server first.
          headersDelayMs: limitMs,
        },
        async (world) => {
          const what = 'a hedge won by the primary'
          const reading = started(readAll(world.stream({ hedgeAfterMs })))
          await waitFor(() => world.server.requests.length === 1, 'the primary request to arrive')
          await world.clock.advance(hedgeAfterMs)
          const read = await reading
          if (!read.response.ok) {
            throw new StreamFallbackFailure(
              `${what}: the call failed (${describe(read.response.error)})`,
            )
          }
          expectOneStart(read, world.primary, what)
          expectText(read.text, faultText, `${what}: the text the caller received`)
          expectText(read.response.value.text, faultText, `${what}: response.text`)
          const trace = read.response.value.attempts
          const outcomes = trace.map((attempt) => `${attempt.target} ${attempt.outcome}`).sort()
          const expected = [`${world.fallback} hedged`, `${world.primary} ok`].sort()
          if (JSON.stringify(outcomes) !== JSON.stringify(expected)) {
            throw new StreamFallbackFailure(
              `${what}: the trace is ${describeTrace(trace)}, expected the primary ok and the fallback hedged`,
            )
          }
          await expectClosedEarly(world, 1, what)
        },
        // The fallback is slower still: the primary's content comes first.
        { text: fallbackText, chunks: fallbackPieces, headersDelayMs: 20 * limitMs },
      ),
    },
    {
      name: 'continues an interrupted answer on the fallback only as its provider allows: refused, with the reason in the trace, without assistantPrefix',
      run: inWorld({ fault: 'drop-mid-stream', afterEvents: contentEvents }, async (world) => {
        const read = await readAll(world.stream({ midStream: 'continue' }))
        if (world.provider.assistantPrefix === true) {
          const what = 'continuation with assistantPrefix'
          if (!read.response.ok) {
            throw new StreamFallbackFailure(
              `${what}: the call failed (${describe(read.response.error)}); the fallback can continue it`,
            )
          }
          expectOneStart(read, world.primary, what)
          const delivered = read.text.slice(0, read.text.length - fallbackText.length)
          if (
            delivered === '' ||
            !faultText.startsWith(delivered) ||
            read.text !== delivered + fallbackText
          ) {
            throw new StreamFallbackFailure(
              `${what}: the caller received ${JSON.stringify(read.text)}, expected a prefix of the primary's answer then ${JSON.stringify(fallbackText)}`,
            )
          }
          expectText(read.response.value.text, read.text, `${what}: response.text`)
          expectModels(world, [primaryModel, fallbackModel], what)
          const sent = JSON.stringify(world.server.requests[1]?.body)
          if (!sent.includes(JSON.stringify(delivered).slice(1, -1))) {
            throw new StreamFallbackFailure(
              `${what}: the fallback's request does not carry the delivered text as a prefix`,
            )
          }
          return
        }
        const what = 'continuation without assistantPrefix'
        const error = expectInterrupted(world, read, { kind: 'stream_interrupted', what })
        const refused = error.attempts.find((attempt) => attempt.target === world.fallback)
        if (
          refused?.outcome !== 'skipped' ||
          refused.error?.kind !== 'unsupported' ||
          !/assistant prefix/.test(refused.error.message)
        ) {
          throw new StreamFallbackFailure(
            `${what}: the trace is ${describeTrace(error.attempts)}, expected the fallback skipped as unsupported for want of an assistant prefix`,
          )
        }
        expectModels(world, [primaryModel], what)
      }),
    },
  ]
  // The longest path: a wait for the request, the stream's read, then the
  // waits for the responses to end and a connection to close (2 + 5 + 2 + 2),
  // and the primary's held headers; the rest is headroom.
  const timeoutMs = 15 * limitMs
  return checks.map((check) => ({ ...check, timeoutMs }))

  /**
   * Reads `stream` to its end (or until `afterText` aborts it), then settles
   * its response; fails the check when that takes longer than `5 × limitMs`
   * (a timer that never fires, a provider that never ends its stream).
   */
  async function readAll(
    stream: AsyncIterable<StreamEvent> & { readonly response: Promise<ChatResponse> },
    hooks: { readonly afterText?: () => void } = {},
  ): Promise<Read> {
    const events: StreamEvent[] = []
    let thrown: unknown
    let text = ''
    const reading = (async (): Promise<Read> => {
      try {
        for await (const event of stream) {
          events.push(event)
          if (event.type === 'text') {
            text += event.text
            hooks.afterText?.()
          }
        }
      } catch (error) {
        thrown = error
      }
      const response = await settle(stream.response)
      return { events, text, thrown, response }
    })()
    const read = await within(reading, 5 * limitMs)
    if (read === undefined) {
      throw new StreamFallbackFailure(
        `the stream had not ended ${seconds(5 * limitMs)} after it began; the caller saw ${describeEvents(events)}`,
      )
    }
    return read
  }

  /**
   * `reading`, marked handled: a check that fails while waiting for the
   * server, before it awaits the read, must not leave the read's own failure
   * unhandled. Awaiting it still throws.
   */
  function started(reading: Promise<Read>): Promise<Read> {
    reading.catch(() => undefined)
    return reading
  }

  /** Polls `condition` every few ms for up to `2 × limitMs`. */
  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const until = Date.now() + patienceMs
    while (!condition()) {
      if (Date.now() > until) {
        throw new StreamFallbackFailure(`${what}: not seen within ${seconds(patienceMs)}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  /**
   * Waits for the primary's request to reach the server, then for a few
   * event-loop turns, so a reply that sends its headers at once (a stall)
   * has them read by the provider before the check moves the clock. Turns,
   * not time: if the headers are still on their way, the check holds all
   * the same, as a timeout before the headers.
   */
  async function primaryWaiting(world: World): Promise<void> {
    await waitFor(() => world.server.requests.length >= 1, 'the primary request to arrive')
    for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve))
  }

  function expectSameError(read: Read, what: string): void {
    if (read.response.ok || read.thrown !== read.response.error) {
      throw new StreamFallbackFailure(
        `${what}: the loop threw ${describe(read.thrown)}, not the error response rejects with`,
      )
    }
  }
}

async function settle<T>(
  promise: Promise<T>,
): Promise<
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }
> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
}

function expectText(actual: string | undefined, expected: string, what: string): void {
  if (actual !== expected) {
    throw new StreamFallbackFailure(
      `${what} was ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
    )
  }
}

/** `promise`, or `undefined` if it takes longer than `ms`; the timer is cleared either way. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}

function describe(value: unknown): string {
  if (isUnderstudyError(value)) return `${value.kind}: ${value.message}`
  if (value instanceof Error) return `${value.name}: ${value.message}`
  return String(value)
}

function describeEvents(events: readonly StreamEvent[]): string {
  if (events.length === 0) return 'no event'
  return events
    .map((event) =>
      event.type === 'start'
        ? `start(${event.target})`
        : event.type === 'text'
          ? `text(${JSON.stringify(event.text)})`
          : event.type,
    )
    .join(', ')
}

function describeTrace(attempts: readonly Attempt[]): string {
  if (attempts.length === 0) return 'empty'
  return attempts
    .map(
      (attempt) =>
        `${attempt.target} ${attempt.outcome}${attempt.error === undefined ? '' : ` (${attempt.error.kind})`}`,
    )
    .join(', ')
}

function describeRequest(request: RecordedRequest): string {
  return `#${request.index} ${request.model ?? request.path}`
}
