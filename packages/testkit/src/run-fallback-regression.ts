import type { CallOptions, ChatRequest, ChatResponse, Target } from '@understudy/core'
import { deepFreeze } from './deep-freeze.js'
import { modelOf, type ObservedRequest, type Upstream } from './upstream.js'

/** A client as the regression suite calls it. */
export interface RegressionClient {
  complete(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>
}

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
 * fallback array reused across sequential and then concurrent calls. After
 * every call it checks that the array equals its snapshot, that the call was
 * served by `servedBy`, and that every request each upstream received carried
 * its own key and headers and never another upstream's. Resolves with a report
 * or rejects with a {@link RegressionFailure} listing every problem.
 */
export async function runFallbackRegression(
  setup: RegressionSetup,
  options: RegressionOptions = {},
): Promise<RegressionReport> {
  const { sequentialCalls = 5, concurrentCalls = 16, freeze = true } = options
  const problems: string[] = []
  const snapshot = JSON.stringify(setup.fallbacks)
  const fallbacks = freeze ? deepFreeze(setup.fallbacks) : setup.fallbacks
  const seen = new Map<Upstream, number>(setup.upstreams.map((upstream) => [upstream, 0]))
  let calls = 0

  const call = async (label: string): Promise<void> => {
    calls += 1
    try {
      const response = await setup.client.complete(setup.request, { ...setup.options, fallbacks })
      if (response.target !== setup.servedBy) {
        problems.push(`${label} was served by ${response.target}, not ${setup.servedBy}`)
      }
    } catch (error) {
      problems.push(`${label} failed: ${describeError(error)}`)
    }
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
      await call(`sequential call ${i}`)
      check(`sequential call ${i}`)
    }
    await Promise.all(
      Array.from({ length: concurrentCalls }, (_, i) => call(`concurrent call ${i + 1}`)),
    )
    check(`${concurrentCalls} concurrent calls`)
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
