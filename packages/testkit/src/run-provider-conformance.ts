import {
  type ChatRequest,
  type ErrorKind,
  isUnderstudyError,
  type Provider,
  type ProviderContext,
  type ProviderStreamEvent,
} from '@understudy/core'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import type { Reply } from './reply.js'
import { deepFreeze } from './deep-freeze.js'
import { suiteTimeScale } from './time-scale.js'

/** How to put a provider in front of a fake server of its dialect: what every provider suite takes. */
export interface ServerSetup {
  /** Builds the provider under test for this base URL and key. */
  readonly provider: (options: { readonly baseURL: string; readonly apiKey: string }) => Provider
  /** Starts a fake server of the provider's dialect (`startFakeOpenAI`, …). */
  readonly startServer: (options?: FakeServerOptions) => Promise<FakeServer>
  /** The base URL the provider takes, from the server's origin. @default the origin */
  readonly baseURL?: (server: FakeServer) => string
}

/** What the conformance suite takes: a provider on its fake server, and what to expect of it. */
export interface ConformanceSetup extends ServerSetup {
  /** The model called. @default 'conformance-model' */
  readonly model?: string
  /** Kinds expected for HTTP statuses, added to (or replacing) the defaults. */
  readonly statusKinds?: Readonly<Record<number, ErrorKind>>
  /** Whether to check the streaming contract. @default true */
  readonly streams?: boolean
  /**
   * Multiplies the real time a check waits for what must happen over the
   * socket before it fails (2 s for a request to arrive, a connection to
   * close, content to come or an aborted call to reject): raise it on a
   * slow or busy machine. A positive number.
   * @default the number in the `UNDERSTUDY_TEST_TIME_SCALE` environment variable, or 1
   */
  readonly timeScale?: number
}

/** One check of the suite: a name that states the behaviour, and a run that throws when it does not hold. */
export interface ConformanceCheck {
  readonly name: string
  readonly run: () => Promise<void>
  /** The longest the check can take, failing included, in ms: a timeout for the test that runs it. */
  readonly timeoutMs: number
}

/** A check found the provider wanting. */
export class ConformanceFailure extends Error {
  override readonly name: string = 'ConformanceFailure'
}

/** The status → kind mapping every provider must make (DESIGN.md's policy table). */
export const defaultStatusKinds: Readonly<Record<number, ErrorKind>> = Object.freeze({
  400: 'invalid_request',
  401: 'auth',
  403: 'auth',
  404: 'not_found',
  429: 'rate_limit',
  500: 'server',
  502: 'server',
  503: 'overloaded',
  504: 'server',
})

const apiKey = 'conformance-key-5f1c9a0e'

/**
 * The provider conformance suite: what any provider must do to take part in
 * fallbacks, as checks to run (the Vitest entry registers each as a test).
 * Every check starts its own fake server and closes it.
 */
export function providerConformanceChecks(setup: ConformanceSetup): readonly ConformanceCheck[] {
  /** How long a check waits for what must happen before it fails. */
  const patienceMs = 2_000 * suiteTimeScale(setup.timeScale)
  const seconds = `${Number((patienceMs / 1_000).toFixed(1))} s`
  // At most three waits follow one another in a check; the rest is headroom.
  const timeoutMs = 5 * patienceMs
  const model = setup.model ?? 'conformance-model'
  const request: ChatRequest = { model, messages: [{ role: 'user', content: 'Say hi.' }] }
  const kinds = { ...defaultStatusKinds, ...setup.statusKinds }

  /** Runs `body` with a server scripted to `replies` and the provider pointed at it. */
  const withServer = async (
    replies: readonly Reply[],
    body: (server: FakeServer, provider: Provider) => Promise<void>,
  ): Promise<void> => {
    const server = await setup.startServer()
    try {
      if (replies.length > 0) server.script(model, ...replies)
      const baseURL = setup.baseURL?.(server) ?? server.url
      await body(server, setup.provider({ baseURL, apiKey }))
    } finally {
      await server.close()
    }
  }

  const context = (signal: AbortSignal = new AbortController().signal): ProviderContext => ({
    signal,
    apiKey: undefined,
    baseURL: undefined,
    headers: undefined,
    deadline: Number.POSITIVE_INFINITY,
  })

  const failure = async (attempt: Promise<unknown>, what: string): Promise<unknown> => {
    const outcome = await attempt.then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    if (outcome.ok) throw new ConformanceFailure(`${what}: the call succeeded; it must reject`)
    return outcome.error
  }

  const expectKind = (error: unknown, kind: ErrorKind, what: string): void => {
    if (!isUnderstudyError(error)) {
      throw new ConformanceFailure(
        `${what}: rejected with ${describe(error)}, not an UnderstudyError of kind ${kind}`,
      )
    }
    if (error.kind !== kind)
      throw new ConformanceFailure(`${what}: kind ${error.kind}, expected ${kind}`)
  }

  const expectRequests = (server: FakeServer, count: number, what: string): void => {
    if (server.requests.length !== count) {
      throw new ConformanceFailure(
        `${what}: ${server.requests.length} HTTP requests, expected ${count}`,
      )
    }
  }

  const checks: Omit<ConformanceCheck, 'timeoutMs'>[] = [
    {
      name: 'answers a scripted reply with its text, in one HTTP request carrying the key',
      run: () =>
        withServer([{ text: 'conformance ok' }], async (server, provider) => {
          const response = await provider.complete(request, context())
          if (response.text !== 'conformance ok') {
            throw new ConformanceFailure(
              `text was ${JSON.stringify(response.text)}, expected "conformance ok"`,
            )
          }
          if (response.finishReason !== 'stop')
            throw new ConformanceFailure(`finishReason was ${response.finishReason}`)
          expectRequests(server, 1, 'a successful call')
          const carried = Object.values(server.requests[0]?.headers ?? {}).concat(
            Object.values(server.requests[0]?.query ?? {}),
          )
          if (!carried.some((value) => value.includes(apiKey))) {
            throw new ConformanceFailure('the request did not carry the configured key')
          }
        }),
    },
    ...Object.entries(kinds).map(([status, kind]) => ({
      name: `maps HTTP ${status} to kind ${kind}, with its status, in one HTTP request`,
      run: () =>
        withServer([{ status: Number(status) }], async (server, provider) => {
          const error = await failure(provider.complete(request, context()), `HTTP ${status}`)
          expectKind(error, kind, `HTTP ${status}`)
          if (isUnderstudyError(error) && error.status !== Number(status)) {
            throw new ConformanceFailure(`HTTP ${status}: error.status was ${error.status}`)
          }
          expectRequests(server, 1, `HTTP ${status}`)
        }),
    })),
    ...(
      [
        ['retry-after: 2', { status: 429, retryAfter: '2' }, 2000],
        ['retry-after: 1.5', { status: 429, retryAfter: '1.5' }, 1500],
        ['retry-after-ms: 750', { status: 429, retryAfterMs: 750 }, 750],
      ] as const
    ).map(([header, reply, ms]) => ({
      name: `reads ${header} as retryAfterMs ${ms}`,
      run: () =>
        withServer([reply], async (_server, provider) => {
          const error = await failure(provider.complete(request, context()), header)
          expectKind(error, 'rate_limit', header)
          if (isUnderstudyError(error) && error.retryAfterMs !== ms) {
            throw new ConformanceFailure(
              `${header}: retryAfterMs was ${error.retryAfterMs}, expected ${ms}`,
            )
          }
        }),
    })),
    {
      name: 'maps a dropped connection to kind network, in one HTTP request',
      run: () =>
        withServer([{ fault: 'drop' }], async (server, provider) => {
          const error = await failure(provider.complete(request, context()), 'a dropped connection')
          expectKind(error, 'network', 'a dropped connection')
          expectRequests(server, 1, 'a dropped connection')
        }),
    },
    ...(['malformed-json', 'wrong-content-type', 'drop-mid-body'] as const).map((fault) => ({
      name: `rejects a ${fault} answer with a typed error`,
      run: () =>
        withServer([{ fault }], async (_server, provider) => {
          const error = await failure(provider.complete(request, context()), fault)
          if (!isUnderstudyError(error)) {
            throw new ConformanceFailure(
              `${fault}: rejected with ${describe(error)}, not an UnderstudyError`,
            )
          }
        }),
    })),
    {
      name: 'cancels the request in flight on abort and rejects promptly with kind aborted',
      run: () =>
        withServer([{ fault: 'hang' }], async (server, provider) => {
          const controller = new AbortController()
          const pending = provider.complete(request, context(controller.signal))
          await waitFor(() => server.requests.length === 1, 'the request to arrive', patienceMs)
          controller.abort()
          // Bounded: a provider that never hands the signal to its request would hang here.
          const outcome = await within(
            failure(pending, 'an aborted call').then((error) => ({ error })),
            patienceMs,
          )
          if (outcome === undefined) {
            throw new ConformanceFailure(
              `the aborted call was still pending ${seconds} after the abort`,
            )
          }
          expectKind(outcome.error, 'aborted', 'an aborted call')
          const record = await within(server.settled(0), patienceMs)
          if (record === undefined || !record.closedEarly) {
            throw new ConformanceFailure(
              'the server never saw its connection closed after the abort',
            )
          }
        }),
    },
    {
      name: 'leaves a deep-frozen request unchanged',
      run: () =>
        withServer([], async (_server, provider) => {
          // A fresh value, not a copy of `request`: a provider that writes its input may have
          // written that one in an earlier check, hiding the very field it writes.
          const frozen: ChatRequest = deepFreeze({
            model,
            messages: [{ role: 'user', content: 'Say hi.' }],
            temperature: 0.2,
            stop: ['END'],
          })
          const snapshot = JSON.stringify(frozen)
          // A write to a frozen value throws (ES modules are strict), perhaps synchronously,
          // hence the `then`: a throw here is the provider writing its request.
          const call = Promise.resolve().then(() => provider.complete(frozen, context()))
          await call.catch((error: unknown) => {
            throw new ConformanceFailure(
              `the call on a deep-frozen request threw ${describe(error)}; a provider must not write its request`,
            )
          })
          if (JSON.stringify(frozen) !== snapshot)
            throw new ConformanceFailure('the request changed')
        }),
    },
    {
      name: 'keeps the key out of the error when the upstream echoes it back',
      run: () =>
        withServer(
          [
            {
              status: 401,
              body: {
                error: {
                  message: `Incorrect API key provided: ${apiKey}`,
                  code: 'invalid_api_key',
                },
              },
            },
          ],
          async (_server, provider) => {
            const error = await failure(provider.complete(request, context()), 'HTTP 401')
            const shown = showAll(error)
            if (shown.includes(apiKey))
              throw new ConformanceFailure(
                'the key appears in the error (message, stack, JSON or cause)',
              )
          },
        ),
    },
  ]

  const timed = (): readonly ConformanceCheck[] => checks.map((check) => ({ ...check, timeoutMs }))
  if (setup.streams === false) return timed()

  const collect = async (
    events: AsyncIterable<ProviderStreamEvent>,
  ): Promise<ProviderStreamEvent[]> => {
    const out: ProviderStreamEvent[] = []
    for await (const event of events) out.push(event)
    return out
  }

  checks.push(
    {
      name: 'streams the text in order and ends with a finish event',
      run: () =>
        withServer(
          [{ text: 'one two three', chunks: ['one', ' two', ' three'] }],
          async (server, provider) => {
            const events = await collect(provider.stream(request, context()))
            const text = events.map((event) => (event.type === 'text' ? event.text : '')).join('')
            if (text !== 'one two three')
              throw new ConformanceFailure(`streamed text was ${JSON.stringify(text)}`)
            const last = events[events.length - 1]
            if (last?.type !== 'finish')
              throw new ConformanceFailure('the last event is not a finish event')
            if (events.filter((event) => event.type === 'finish').length !== 1) {
              throw new ConformanceFailure('the stream has more than one finish event')
            }
            expectRequests(server, 1, 'a stream')
          },
        ),
    },
    {
      name: 'ends a stream that lost its terminal signal with kind incomplete, never a made-up finish',
      run: () =>
        withServer([{ fault: 'no-terminal' }], async (_server, provider) => {
          const error = await failure(
            collect(provider.stream(request, context())),
            'a stream without its terminal signal',
          )
          expectKind(error, 'incomplete', 'a stream without its terminal signal')
        }),
    },
    {
      name: 'raises an in-band error event as a typed error',
      run: () =>
        withServer([{ fault: 'in-band-error' }], async (_server, provider) => {
          const error = await failure(
            collect(provider.stream(request, context())),
            'an in-band error',
          )
          if (!isUnderstudyError(error)) {
            throw new ConformanceFailure(
              `an in-band error: rejected with ${describe(error)}, not an UnderstudyError`,
            )
          }
        }),
    },
    {
      name: 'maps an HTTP error before the stream to its kind',
      run: () =>
        withServer([{ status: 429, retryAfter: '3' }], async (_server, provider) => {
          const error = await failure(collect(provider.stream(request, context())), 'a 429 stream')
          expectKind(error, 'rate_limit', 'a 429 stream')
        }),
    },
    {
      name: 'closes the connection when the consumer stops reading early',
      run: () =>
        // Four events reach content in every dialect's stream (OpenAI's role
        // chunk, Azure's prompt-filter chunk, Anthropic's start and ping come first).
        withServer([{ fault: 'stall', afterEvents: 4 }], async (server, provider) => {
          const controller = new AbortController()
          const consumed = (async (): Promise<boolean> => {
            for await (const event of provider.stream(request, context(controller.signal))) {
              if (event.type !== 'finish') return true
            }
            return false
          })()
          const sawContent = await within(
            consumed.catch(() => false),
            patienceMs,
          )
          if (sawContent !== true) {
            controller.abort()
            await consumed.catch(() => undefined)
            throw new ConformanceFailure('no content arrived from a stream that sent four events')
          }
          const record = await within(server.settled(0), patienceMs)
          if (record === undefined || !record.closedEarly) {
            throw new ConformanceFailure(
              'the server never saw its connection closed after the consumer left',
            )
          }
        }),
    },
  )
  return timed()
}

/** Polls `condition` every few ms for up to `ms`. */
async function waitFor(condition: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new ConformanceFailure(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** `promise`, or `undefined` if it takes longer than `ms`; the timer is cleared either way. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
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
  if (value instanceof Error) return `${value.name}: ${value.message}`
  return String(value)
}

/** Everything an error shows: message, stack, JSON, and the same of each cause. */
function showAll(error: unknown, depth = 0): string {
  if (depth > 8 || error === undefined || error === null) return ''
  if (!(error instanceof Error)) return safeJson(error)
  return [error.message, error.stack ?? '', safeJson(error), showAll(error.cause, depth + 1)].join(
    '\n',
  )
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? ''
  } catch {
    return String(value)
  }
}
