import type { CallOptions, ChatRequest, ChatResponse, StreamEvent, Target } from '@understudy/core'
import { deepFreeze } from './deep-freeze.js'
import { modelOf, type ObservedRequest, type Upstream } from './upstream.js'

/** A stream as the regression suite reads it: core's `ChatStream` is one. */
export interface RegressionStream extends AsyncIterable<StreamEvent> {
  /** The final response, once the events have ended. */
  readonly response: Promise<ChatResponse>
}

/** A client as the regression suite calls it. */
export interface RegressionClient {
  complete(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>
  /** Optional: without it, only the `complete()` calls run. */
  stream?(request: ChatRequest, options?: CallOptions): RegressionStream
}

/** Which of the client's calls the suite makes: `complete()`, `stream()`, or each of them. */
export type RegressionVia = 'complete' | 'stream' | 'both'

/** Everything one run of the regression suite needs; built fresh by `setup` for each run. */
export interface RegressionSetup {
  /** The client under test, built the way the application builds it. */
  readonly client: RegressionClient
  /** The request; its `model` is the primary, which must fail. */
  readonly request: ChatRequest
  /** The one fallback array every call reuses. The suite deep-freezes it unless `freeze` is false. */
  readonly fallbacks: readonly Target[]
  /** Other call options (the primary's `apiKey`, a `timeoutMs`…); `fallbacks` is added. */
  readonly options?: CallOptions
  /** The target that must serve every call: `"provider/model"`. */
  readonly servedBy: string
  /** Every upstream of the chain, primary included, with what each must receive. */
  readonly upstreams: readonly Upstream[]
  /** Frees what setup started (fake servers). */
  readonly close?: () => Promise<void> | void
}

/** How the suite runs. */
export interface RegressionOptions {
  /** Calls made one after another. @default 5 */
  readonly sequentialCalls?: number
  /** Calls in flight at once. @default 16 */
  readonly concurrentCalls?: number
  /**
   * Deep-freeze the fallback array (targets, params, headers) before the
   * first call, so a client that writes it throws at once. Set `false` to
   * see what such a client does to later calls instead.
   * @default true
   */
  readonly freeze?: boolean
  /**
   * Which calls to make. `'stream'` reads every call through `stream()` to its
   * end and also checks what the caller saw: exactly one `start` event, first,
   * naming `servedBy`; streamed text equal to `response.text`; a `finish`
   * last. `'both'` makes each call once through each, concurrent ones all in
   * flight together. The client must have `stream` for `'stream'` and `'both'`.
   * @default 'complete'
   */
  readonly via?: RegressionVia
}

/** What a run of the suite saw. */
export interface RegressionReport {
  readonly calls: number
  /** Requests each upstream received, by target. */
  readonly requests: Readonly<Record<string, number>>
}

/** The suite found problems: `problems` lists each, in order. */
export class RegressionFailure extends Error {
  override readonly name: string = 'RegressionFailure'
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(
      `The fallback regression suite found ${problems.length} problem(s):\n- ${problems.join('\n- ')}`,
    )
    this.problems = problems
  }
}

/**
 * Runs the fallback regression suite once, outside any test framework: one
 * fallback array reused across sequential and then concurrent calls, made
 * through `complete()`, `stream()` or both (`options.via`). After every call
 * it checks that the array equals its snapshot, that the call was served by
 * `servedBy`, and that every request each upstream received carried its own
 * key and headers and never another upstream's; a streamed call must also
 * show the caller one `start` (the serving target's) and text equal to its
 * `response.text`. Resolves with a report or rejects with a
 * {@link RegressionFailure} listing every problem.
 */
export async function runFallbackRegression(
  setup: RegressionSetup,
  options: RegressionOptions = {},
): Promise<RegressionReport> {
  const { sequentialCalls = 5, concurrentCalls = 16, freeze = true, via = 'complete' } = options
  const { client } = setup
  if (via !== 'complete' && client.stream === undefined) {
    await setup.close?.()
    throw new RegressionFailure([`via '${via}' needs a client with stream(); this one has none`])
  }
  const apis: readonly ('complete' | 'stream')[] = via === 'both' ? ['complete', 'stream'] : [via]
  const problems: string[] = []
  const snapshot = JSON.stringify(setup.fallbacks)
  const fallbacks = freeze ? deepFreeze(setup.fallbacks) : setup.fallbacks
  const seen = new Map<Upstream, number>(setup.upstreams.map((upstream) => [upstream, 0]))
  let calls = 0

  const call = async (label: string, api: 'complete' | 'stream'): Promise<void> => {
    calls += 1
    const shown = via === 'both' ? `${label} (${api})` : label
    try {
      const response =
        api === 'complete'
          ? await client.complete(setup.request, { ...setup.options, fallbacks })
          : await streamCall(shown, { ...setup.options, fallbacks })
      if (response.target !== setup.servedBy) {
        problems.push(`${shown} was served by ${response.target}, not ${setup.servedBy}`)
      }
    } catch (error) {
      problems.push(`${shown} failed: ${describeError(error)}`)
    }
  }

  /** Reads one stream to its end; checks what the caller saw against its response. */
  const streamCall = async (label: string, callOptions: CallOptions): Promise<ChatResponse> => {
    const stream = (client.stream as NonNullable<RegressionClient['stream']>)(
      setup.request,
      callOptions,
    )
    const events: StreamEvent[] = []
    for await (const event of stream) events.push(event)
    const response = await stream.response
    const before = events.findIndex((event) => event.type === 'start')
    if (before !== 0) {
      const first = events[0]?.type ?? 'nothing'
      problems.push(
        before === -1
          ? `${label} sent no start event`
          : `${label} sent ${first} before its start event`,
      )
    }
    const starts = events.filter((event) => event.type === 'start')
    if (starts.length > 1) problems.push(`${label} sent ${starts.length} start events, not one`)
    for (const start of starts) {
      if (start.target !== setup.servedBy)
        problems.push(`${label} sent a start event for ${start.target}, not ${setup.servedBy}`)
    }
    const text = events.map((event) => (event.type === 'text' ? event.text : '')).join('')
    if (text !== response.text) {
      problems.push(
        `${label} streamed ${JSON.stringify(text)}, but its response.text is ${JSON.stringify(response.text)}`,
      )
    }
    const last = events[events.length - 1]
    if (last?.type !== 'finish') problems.push(`${label} did not end with a finish event`)
    return response
  }

  const check = (label: string): void => {
    if (JSON.stringify(fallbacks) !== snapshot) {
      problems.push(
        `after ${label} the fallback array differs from its snapshot: ${JSON.stringify(fallbacks)}`,
      )
    }
    for (const upstream of setup.upstreams) {
      const requests = upstream.requests()
      const fresh = requests.slice(seen.get(upstream) ?? 0)
      seen.set(upstream, requests.length)
      for (const request of fresh)
        problems.push(...checkRequest(label, upstream, request, setup.upstreams))
    }
  }

  try {
    for (let i = 1; i <= sequentialCalls; i++) {
      for (const api of apis) {
        await call(`sequential call ${i}`, api)
        check(via === 'both' ? `sequential call ${i} (${api})` : `sequential call ${i}`)
      }
    }
    await Promise.all(
      apis.flatMap((api) =>
        Array.from({ length: concurrentCalls }, (_, i) => call(`concurrent call ${i + 1}`, api)),
      ),
    )
    check(`${concurrentCalls * apis.length} concurrent calls`)
    const served = setup.upstreams.find((upstream) => upstream.target === setup.servedBy)
    if (served === undefined) problems.push(`no upstream serves ${setup.servedBy}`)
    else if ((seen.get(served) ?? 0) < calls) {
      problems.push(
        `${setup.servedBy} received ${seen.get(served) ?? 0} requests for ${calls} calls`,
      )
    }
  } finally {
    await setup.close?.()
  }
  if (problems.length > 0) throw new RegressionFailure(problems)
  return {
    calls,
    requests: Object.fromEntries(
      setup.upstreams.map((upstream) => [upstream.target, seen.get(upstream) ?? 0]),
    ),
  }
}

/** The problems with one request that reached `upstream`. Keys are named by their owner, never shown. */
function checkRequest(
  label: string,
  upstream: Upstream,
  request: ObservedRequest,
  upstreams: readonly Upstream[],
): string[] {
  const problems: string[] = []
  const at = `${label}: ${upstream.target}`
  const model = upstream.model ?? modelOf(upstream.target)
  if (request.model !== undefined && request.model !== model) {
    problems.push(`${at} received a request for model ${request.model}, not ${model}`)
  }
  const carries = (secret: string): boolean =>
    request.credentials.some((value) => value.includes(secret))
  if (upstream.apiKey !== undefined && !carries(upstream.apiKey)) {
    problems.push(`${at} received a request without its own key`)
  }
  for (const other of upstreams) {
    if (other === upstream || other.apiKey === undefined || other.apiKey === upstream.apiKey)
      continue
    if (carries(other.apiKey)) problems.push(`${at} received the key of ${other.target}`)
  }
  for (const [name, value] of Object.entries(upstream.headers ?? {})) {
    const received = request.headers[name.toLowerCase()]
    if (received !== value) {
      problems.push(
        `${at} received header ${name} = ${JSON.stringify(received)}, not ${JSON.stringify(value)}`,
      )
    }
  }
  for (const other of upstreams) {
    if (other === upstream) continue
    for (const [name, value] of Object.entries(other.headers ?? {})) {
      if (upstream.headers?.[name] === value) continue
      if (request.headers[name.toLowerCase()] === value) {
        problems.push(`${at} received header ${name} meant for ${other.target}`)
      }
    }
  }
  return problems
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const kind = Reflect.get(error, 'kind')
    const message = Reflect.get(error, 'message')
    return `${typeof kind === 'string' ? `${kind}: ` : ''}${String(message)}`
  }
  return String(error)
}
