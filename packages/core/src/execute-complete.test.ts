import { fc, it } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { buildPlan, type ChainName, type Plan, type PlanEntry } from './build-plan.js'
import type { ChatParamName, ChatRequest } from './chat-request.js'
import type { ChatResponse } from './chat-response.js'
import { createClient } from './create-client.js'
import { defaults } from './defaults.js'
import { type Attempt, type ErrorKind, isUnderstudyError, type UnderstudyError } from './errors.js'
import type { HealthStore } from './health-store.js'
import type { CallOptions } from './options.js'
import { defaultPolicy, type PolicyKind } from './policy.js'
import type { Provider } from './provider.js'
import type { Target, TargetObject } from './target.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { type MockProvider, mockProvider, type Script } from './test-support/mock-provider.js'
import { sharedObjects } from './test-support/shared-objects.js'
import { createTestClock, type TestClock } from './test-support/test-clock.js'
import { TargetNames } from './target-names.js'

const providerIds = ['alpha', 'beta'] as const
const modelNames = ['m1', 'm2', 'vendor/m3'] as const
type ProviderId = (typeof providerIds)[number]
type ModelName = (typeof modelNames)[number]
type Scripts = Readonly<Record<ProviderId, Readonly<Record<ModelName, readonly Script[]>>>>

/** The data part of the call's options: everything but the signal. */
type CallData = Omit<CallOptions, 'signal' | 'hooks' | 'policy'>

interface Scenario {
  readonly request: ChatRequest
  readonly data: CallData
  readonly scripts: Scripts
  /** Group g is cooling down when `cooling[g] === 0`. */
  readonly cooling: readonly number[]
  /** The backoff's jitter: `random()` always returns it. */
  readonly jitter: number
  /**
   * When the test aborts the call: `atMs` after it starts; at a share
   * (`within`, in [0, 1)) of the time the same call takes unaborted; or at a
   * share of the time it spends waiting between attempts (`inWait`, else as
   * `within`). Never when undefined.
   */
  readonly abort:
    | { readonly atMs: number }
    | { readonly within: number }
    | { readonly inWait: number }
    | undefined
}

/** One provider call, as the test saw it. */
interface LoggedCall {
  readonly provider: ProviderId
  readonly model: ModelName
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  /** The script step the mock played for it. */
  readonly script: Script
  readonly startedAt: number
  readonly signal: AbortSignal
  /** Objects the request the provider received shares with the caller's inputs. */
  readonly shared: readonly object[]
  settledAt: number | undefined
}

/** How the call ended, when, and how many timers were still set at that moment. */
type Result = (
  | { readonly status: 'fulfilled'; readonly value: ChatResponse }
  | { readonly status: 'rejected'; readonly reason: unknown }
) & { readonly at: number; readonly pending: number }

interface Observed {
  readonly scenario: Scenario
  /** A structuredClone of the inputs taken before the call. */
  readonly snapshot: { readonly request: ChatRequest; readonly data: CallData }
  readonly plan: Plan
  readonly cooled: readonly boolean[]
  readonly clock: TestClock
  readonly start: number
  readonly deadline: number
  readonly timeoutMs: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly log: readonly LoggedCall[]
  readonly mocks: readonly MockProvider[]
  readonly result: Result
  readonly abort:
    | { readonly at: number; readonly calls: number; readonly inFlight: readonly LoggedCall[] }
    | undefined
}

const noCooldown = (): undefined => undefined

/** Runs one call of the scenario to its end on a test clock and records everything. */
async function observe(scenario: Scenario): Promise<Observed> {
  const { abort } = scenario
  if (abort === undefined || 'atMs' in abort) return observeCall(scenario, abort?.atMs)
  // Deterministic: the same call runs the same way until the abort.
  const unaborted = await observeCall(scenario, undefined)
  const share = 'within' in abort ? abort.within : abort.inWait
  const windows: [number, number][] = []
  if ('inWait' in abort) {
    for (const [index, call] of unaborted.log.entries()) {
      const next = unaborted.log[index + 1]
      const end = call.settledAt ?? call.startedAt
      if (next !== undefined && next.startedAt > end) windows.push([end, next.startedAt])
    }
  }
  if (windows.length === 0) windows.push([unaborted.start, unaborted.result.at])
  let offset = Math.floor(share * windows.reduce((sum, [from, to]) => sum + to - from, 0))
  for (const [from, to] of windows) {
    if (offset < to - from) return observeCall(scenario, from + offset - unaborted.start)
    offset -= to - from
  }
  return observeCall(scenario, unaborted.result.at - unaborted.start)
}

async function observeCall(scenario: Scenario, abortAtMs: number | undefined): Promise<Observed> {
  const { request, data, scripts } = scenario
  const snapshot = structuredClone({ request, data })
  deepFreeze(request)
  deepFreeze(data)

  const clock = createTestClock()
  const log: LoggedCall[] = []
  const mocks: MockProvider[] = []
  const providers: Provider[] = providerIds.map((id) => {
    const mock = mockProvider(id, scripts[id], clock)
    mocks.push(mock)
    return {
      id,
      complete(attemptRequest, context) {
        const model = attemptRequest.model as ModelName
        const list = scripts[id][model]
        const played = mock.calls.filter((call) => call.model === model).length
        const call: LoggedCall = {
          provider: id,
          model,
          apiKey: context.apiKey,
          baseURL: context.baseURL,
          script: list[Math.min(played, list.length - 1)] as Script,
          startedAt: clock.now(),
          signal: context.signal,
          shared: sharedObjects(attemptRequest, { request, data }),
          settledAt: undefined,
        }
        log.push(call)
        const pending = mock.complete(attemptRequest, context)
        const settled = (): void => {
          call.settledAt = clock.now()
        }
        pending.then(settled, settled)
        return pending
      },
      stream: (attemptRequest, context) => mock.stream(attemptRequest, context),
    }
  })

  // The plan the client builds, to know each target's group, chain and settings.
  const plan = buildPlan(
    request,
    {
      fallbacks: data.fallbacks,
      contextWindowFallbacks: data.contextWindowFallbacks,
      contentPolicyFallbacks: data.contentPolicyFallbacks,
      retries: data.retries ?? defaults.retries,
      attemptTimeoutMs: data.attemptTimeoutMs,
      apiKey: data.apiKey,
      baseURL: data.baseURL,
      headers: data.headers,
    },
    new TargetNames(new Map(providers.map((provider) => [provider.id, provider]))),
  )
  const cooled = plan.groupKeys.map((_, group) => scenario.cooling[group] === 0)
  const cooledKeys = new Set(plan.groupKeys.filter((_, group) => cooled[group]))
  const store: HealthStore = {
    cooldowns: (keys, now) =>
      keys.map((key) => (cooledKeys.has(key) ? now + 3_600_000 : undefined)),
    record: noCooldown,
  }

  const client = createClient({
    providers,
    clock,
    random: () => scenario.jitter,
    health: { store },
  })
  const controller = new AbortController()
  const options: CallOptions = Object.freeze({ ...data, signal: controller.signal })
  const start = clock.now()
  const timeoutMs = data.timeoutMs ?? defaults.timeoutMs
  let result: Result | undefined
  client.complete(request, options).then(
    (value) => {
      result = { status: 'fulfilled', value, at: clock.now(), pending: clock.pending() }
    },
    (reason: unknown) => {
      result = { status: 'rejected', reason, at: clock.now(), pending: clock.pending() }
    },
  )

  let abort: Observed['abort']
  if (abortAtMs !== undefined) {
    await clock.advance(abortAtMs)
    if (result === undefined) {
      abort = {
        at: clock.now(),
        calls: log.length,
        inFlight: log.filter((call) => call.settledAt === undefined),
      }
      controller.abort()
    }
  }
  await clock.runAll()
  if (result === undefined) throw new Error('the call did not settle after every timer ran')
  return {
    scenario,
    snapshot,
    plan,
    cooled,
    clock,
    start,
    deadline: start + timeoutMs,
    timeoutMs,
    initialDelayMs: data.backoff?.initialDelayMs ?? defaults.backoffInitialDelayMs,
    maxDelayMs: data.backoff?.maxDelayMs ?? defaults.backoffMaxDelayMs,
    log,
    mocks,
    result,
    abort,
  }
}

function attemptsOf(observed: Observed): readonly Attempt[] {
  const { result } = observed
  if (result.status === 'fulfilled') return result.value.attempts
  if (isUnderstudyError(result.reason)) return result.reason.attempts
  throw new Error('the call rejected with something other than an UnderstudyError', {
    cause: result.reason,
  })
}

function errorOf(observed: Observed): UnderstudyError | undefined {
  const { result } = observed
  return result.status === 'rejected' && isUnderstudyError(result.reason)
    ? result.reason
    : undefined
}

function entryOf(plan: Plan, index: number): PlanEntry {
  const entry = plan.entries[index]
  if (entry === undefined) throw new Error(`no plan entry ${index}`)
  return entry
}

/** The group (target) a provider call went to: equal provider, model, base URL and key. */
function groupOf(plan: Plan, call: LoggedCall): number {
  const entry = plan.entries.find(
    (candidate) =>
      candidate.provider.id === call.provider &&
      candidate.model === call.model &&
      candidate.baseURL === call.baseURL &&
      candidate.apiKey === call.apiKey,
  )
  if (entry === undefined)
    throw new Error(`a call went to no target of the plan: ${call.provider}/${call.model}`)
  return entry.group
}

function scriptDelay(script: Script): number {
  return 'delayMs' in script ? (script.delayMs ?? 0) : 0
}

interface Move {
  readonly entry: number
  readonly skipped: readonly number[]
}

/**
 * DESIGN.md's order: the first entry of `chain` whose target is not finished
 * and not cooling, reporting the cooling ones passed over (once per call);
 * when only cooling ones are left, the first of them.
 */
function expectedMove(
  plan: Plan,
  chain: ChainName,
  finished: ReadonlySet<number>,
  cooled: readonly boolean[],
  reported: ReadonlySet<number>,
): Move | undefined {
  const indices = plan.chains[chain] ?? []
  const open = indices.filter((index) => !finished.has(entryOf(plan, index).group))
  const fresh = open.find((index) => cooled[entryOf(plan, index).group] !== true)
  if (fresh === undefined)
    return open[0] === undefined ? undefined : { entry: open[0], skipped: [] }
  const skipped: number[] = []
  const seen = new Set<number>()
  for (const index of open.slice(0, open.indexOf(fresh))) {
    const { group } = entryOf(plan, index)
    if (reported.has(group) || seen.has(group)) continue
    seen.add(group)
    skipped.push(index)
  }
  return { entry: fresh, skipped }
}

/** What must follow an attempt. */
type Next =
  | { readonly type: 'retry'; readonly delayMs: number }
  | { readonly type: 'move' }
  | { readonly type: 'succeed' }
  | { readonly type: 'stop'; readonly kind: ErrorKind }

/**
 * Replays the trace against DESIGN.md's policy: checks that each provider
 * call went where the chain says, after the right wait, with the right
 * skips, and that the call ended the way the last attempt says. Returns the
 * plan entry of each call.
 */
function replay(observed: Observed): number[] {
  const { plan, cooled, log } = observed
  const attempts = attemptsOf(observed)
  const finished = new Set<number>()
  const reported = new Set<number>()
  const counts = new Map<number, number>()
  const entries: number[] = []
  let chain: ChainName = 'main'
  let skips: string[] = []
  let next: Next = { type: 'move' }
  let calls = 0
  let end = observed.start
  let filtered = false

  const expectMove = (): Move | undefined => {
    const move = expectedMove(plan, chain, finished, cooled, reported)
    for (const index of move?.skipped ?? []) reported.add(entryOf(plan, index).group)
    return move
  }

  for (const attempt of attempts) {
    if (attempt.outcome === 'skipped') {
      skips.push(attempt.target)
      continue
    }
    const call = log[calls++]
    if (call === undefined)
      throw new Error('the trace has more attempts than the providers received')
    const group = groupOf(plan, call)
    if (next.type === 'retry') {
      expect(entryOf(plan, entries[entries.length - 1] as number).group).toBe(group)
      expect(call.startedAt - end).toBe(next.delayMs)
      expect(skips).toEqual([])
      entries.push(entries[entries.length - 1] as number)
    } else {
      expect(next.type).toBe('move')
      const move = expectMove()
      expect(move).toBeDefined()
      expect(group).toBe(entryOf(plan, move?.entry ?? -1).group)
      expect(call.startedAt).toBe(end)
      expect(skips).toEqual(move?.skipped.map((index) => entryOf(plan, index).target))
      entries.push(move?.entry ?? -1)
    }
    skips = []
    const made = (counts.get(group) ?? 0) + 1
    counts.set(group, made)
    expect(attempt.retry).toBe(made - 1)
    end = call.startedAt + attempt.durationMs

    if (attempt.outcome === 'ok') {
      next = { type: 'succeed' }
      continue
    }
    const kind = attempt.error?.kind ?? 'unknown'
    if (kind === 'content_policy' && attempt.status === 200) filtered = true
    if (kind === 'aborted' || kind === 'deadline' || kind === 'config' || kind === 'all_failed') {
      next = { type: 'stop', kind }
      continue
    }
    const remainingMs = observed.deadline - end
    if (remainingMs <= 0) {
      next = { type: 'stop', kind: 'deadline' }
      continue
    }
    const rule = defaultPolicy[kind as PolicyKind]
    const entry = entryOf(plan, entries[entries.length - 1] as number)
    if (rule.retry && made < entry.maxAttempts) {
      const ceiling = Math.min(observed.maxDelayMs, observed.initialDelayMs * 2 ** (made - 1))
      const delayMs = attempt.error?.retryAfterMs ?? Math.floor(observed.scenario.jitter * ceiling)
      if (delayMs <= observed.maxDelayMs && delayMs < remainingMs) {
        next = { type: 'retry', delayMs }
        continue
      }
    }
    if (!rule.fallback) {
      next = { type: 'stop', kind }
      continue
    }
    finished.add(group)
    if ((kind === 'context_window' || kind === 'content_policy') && plan.chains[kind] !== undefined)
      chain = kind
    next = { type: 'move' }
  }
  expect(calls).toBe(log.length)
  expect(skips).toEqual([])

  // How the call ended must follow from its last attempt.
  const { result, abort } = observed
  const error = errorOf(observed)
  switch (next.type) {
    case 'succeed':
      expect(result.status).toBe('fulfilled')
      break
    case 'stop':
      expect(error?.kind).toBe(next.kind)
      break
    case 'retry':
      // Only an abort during the wait ends a call that was going to retry.
      expect(error?.kind).toBe('aborted')
      expect(abort?.at).toBeGreaterThanOrEqual(end)
      expect(abort?.at).toBeLessThan(end + next.delayMs)
      break
    case 'move':
      expect(expectMove()).toBeUndefined()
      if (filtered) {
        expect(result.status === 'fulfilled' && result.value.finishReason).toBe('content_filter')
      } else {
        expect(error?.kind).toBe('all_failed')
      }
      break
    default:
      next satisfies never
  }
  return entries
}

/** What the attempt of `call` must have ended with, from its script, its limits and the abort. */
function expectedAttempt(observed: Observed, call: LoggedCall, entry: PlanEntry): Partial<Attempt> {
  const { script } = call
  const remainingMs = observed.deadline - call.startedAt
  const limitMs = Math.min(entry.attemptTimeoutMs, remainingMs)
  const delayMs = scriptDelay(script)
  if (observed.abort?.inFlight.includes(call) === true) {
    return {
      outcome: 'error',
      error: expect.objectContaining({ kind: 'aborted' }),
      durationMs: (observed.abort?.at ?? 0) - call.startedAt,
    }
  }
  if ('hang' in script || delayMs >= limitMs) {
    const kind = entry.attemptTimeoutMs < remainingMs ? 'timeout' : 'deadline'
    return { outcome: 'error', error: expect.objectContaining({ kind }), durationMs: limitMs }
  }
  if ('ok' in script) {
    return script.finishReason === 'content_filter'
      ? {
          outcome: 'error',
          error: expect.objectContaining({ kind: 'content_policy' }),
          durationMs: delayMs,
        }
      : { outcome: 'ok', durationMs: delayMs }
  }
  if ('fail' in script) {
    const error = {
      kind: script.fail,
      ...(script.retryAfterMs !== undefined && { retryAfterMs: script.retryAfterMs }),
    }
    return { outcome: 'error', error: expect.objectContaining(error), durationMs: delayMs }
  }
  throw new Error('a script this test does not generate')
}

// ---------------------------------------------------------------------------
// Arbitraries

const keys = ['key-1', 'key-2'] as const
const backupURL = 'https://backup.example/v1'
const paramNames: readonly ChatParamName[] = ['temperature', 'maxTokens', 'stop']

function nameArbitrary(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...providerIds), fc.constantFrom(...modelNames))
    .map(([provider, model]) => `${provider}/${model}`)
}

function targetArbitrary(): fc.Arbitrary<Target> {
  const object: fc.Arbitrary<TargetObject> = fc.record(
    {
      model: nameArbitrary(),
      apiKey: fc.constantFrom(...keys),
      baseURL: fc.constant(backupURL),
      headers: fc.constant({ 'x-team': 'b' }),
      params: fc.record(
        { temperature: fc.constant(0.5), stop: fc.constant(['END']) },
        { requiredKeys: [] },
      ),
      unset: fc.subarray([...paramNames]),
      retries: fc.integer({ min: 0, max: 2 }),
      attemptTimeoutMs: fc.integer({ min: 1, max: 10_000 }),
    },
    { requiredKeys: ['model'] },
  )
  return fc.oneof({ weight: 2, arbitrary: nameArbitrary() }, { weight: 1, arbitrary: object })
}

const retryableKinds: readonly ErrorKind[] = [
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
  'incomplete',
]
const otherKinds: readonly ErrorKind[] = [
  'quota',
  'auth',
  'not_found',
  'context_window',
  'content_policy',
  'invalid_request',
  'unsupported',
  'empty',
  'stream_interrupted',
  'unknown',
]

function scriptArbitrary(): fc.Arbitrary<Script> {
  const delayMs = fc.integer({ min: 0, max: 8_000 })
  const ok: fc.Arbitrary<Script> = fc.record(
    {
      ok: fc.string({ minLength: 1, maxLength: 8 }),
      finishReason: fc.constantFrom('stop' as const, 'content_filter' as const),
      delayMs,
    },
    { requiredKeys: ['ok'] },
  )
  const fail: fc.Arbitrary<Script> = fc.record(
    {
      fail: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...retryableKinds) },
        { weight: 2, arbitrary: fc.constantFrom(...otherKinds) },
      ),
      retryAfterMs: fc.integer({ min: 0, max: 15_000 }),
      delayMs,
    },
    { requiredKeys: ['fail'] },
  )
  return fc.oneof(
    { weight: 2, arbitrary: ok },
    { weight: 6, arbitrary: fail },
    { weight: 1, arbitrary: fc.constant({ hang: true as const }) },
  )
}

function scriptsArbitrary(): fc.Arbitrary<Scripts> {
  const list = fc.array(scriptArbitrary(), { minLength: 1, maxLength: 4 })
  const perModel = fc.record({ m1: list, m2: list, 'vendor/m3': list })
  return fc.record({ alpha: perModel, beta: perModel })
}

function scenarioArbitrary(): fc.Arbitrary<Scenario> {
  const chain = fc.array(targetArbitrary(), { maxLength: 4 })
  const data: fc.Arbitrary<CallData> = fc.record(
    {
      fallbacks: chain,
      contextWindowFallbacks: chain,
      contentPolicyFallbacks: chain,
      retries: fc.integer({ min: 0, max: 2 }),
      timeoutMs: fc.integer({ min: 1, max: 60_000 }),
      attemptTimeoutMs: fc.integer({ min: 1, max: 10_000 }),
      backoff: fc.record(
        {
          initialDelayMs: fc.integer({ min: 0, max: 2_000 }),
          maxDelayMs: fc.integer({ min: 0, max: 12_000 }),
        },
        { requiredKeys: [] },
      ),
      apiKey: fc.constantFrom(...keys),
      baseURL: fc.constant(backupURL),
      headers: fc.constant({ 'x-team': 'a' }),
    },
    { requiredKeys: ['fallbacks'] },
  )
  const request: fc.Arbitrary<ChatRequest> = fc.record(
    {
      model: fc.constantFrom('alpha/m1', 'beta/m2', 'alpha/vendor/m3'),
      messages: fc.constant([
        { role: 'system' as const, content: 'be brief' },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] },
      ]),
      temperature: fc.constant(1),
      maxTokens: fc.integer({ min: 1, max: 100 }),
    },
    { requiredKeys: ['model', 'messages'] },
  )
  return fc.record({
    request,
    data,
    scripts: scriptsArbitrary(),
    cooling: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 16 }),
    jitter: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    abort: fc.option(
      fc.oneof(
        fc.record({ atMs: fc.integer({ min: 0, max: 40_000 }) }),
        fc.record({ within: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
        fc.record({ inWait: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
      ),
      { nil: undefined, freq: 3 },
    ),
  })
}

// ---------------------------------------------------------------------------
// Properties

const numRuns = 120

describe('executeComplete, through client.complete() with scripted providers', () => {
  it.prop([scenarioArbitrary()], { numRuns })(
    'leaves the request, options and fallback arrays unchanged and returns nothing that aliases them',
    async (scenario) => {
      const observed = await observe(scenario)
      const { request, data } = scenario
      expect({ request, data }).toEqual(observed.snapshot)
      const settled =
        observed.result.status === 'fulfilled' ? observed.result.value : observed.result.reason
      expect(sharedObjects(settled, { request, data })).toEqual([])
      // No provider received the caller's objects either.
      for (const call of observed.log) expect(call.shared).toEqual([])
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'settles within timeoutMs of virtual time and leaves no timer behind',
    async (scenario) => {
      const observed = await observe(scenario)
      const elapsedMs = observed.result.at - observed.start
      expect(elapsedMs).toBeLessThanOrEqual(observed.timeoutMs)
      if (errorOf(observed)?.kind === 'deadline') expect(elapsedMs).toBe(observed.timeoutMs)
      expect(observed.result.pending).toBe(0)
      expect(observed.clock.pending()).toBe(0)
      for (const call of observed.log) expect(call.settledAt).toBeDefined()
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'never gives a target more than 1 + retries attempts',
    async (scenario) => {
      const { plan, mocks } = await observe(scenario)
      const counts = new Map<string, number>()
      for (const mock of mocks) {
        for (const call of mock.calls) {
          const target = JSON.stringify([mock.id, call.model, call.baseURL, call.apiKey])
          counts.set(target, (counts.get(target) ?? 0) + 1)
        }
      }
      for (const [target, count] of counts) {
        const [provider, model, baseURL, apiKey] = JSON.parse(target) as (string | null)[]
        const bound = Math.max(
          ...plan.entries
            .filter(
              (entry) =>
                entry.provider.id === provider &&
                entry.model === model &&
                (entry.baseURL ?? null) === baseURL &&
                (entry.apiKey ?? null) === apiKey,
            )
            .map((entry) => entry.maxAttempts),
        )
        expect(count).toBeLessThanOrEqual(bound)
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'records every attempt in order: the calls the providers received, plus the skipped targets',
    async (scenario) => {
      const observed = await observe(scenario)
      const attempts = attemptsOf(observed)
      const tried = attempts.filter((attempt) => attempt.outcome !== 'skipped')
      expect(tried.map((attempt) => [attempt.provider, attempt.model])).toEqual(
        observed.log.map((call) => [call.provider, call.model]),
      )
      tried.forEach((attempt, index) => {
        const call = observed.log[index] as LoggedCall
        expect(attempt.target).toBe(`${call.provider}/${call.model}`)
        expect(attempt.durationMs).toBe((call.settledAt ?? Number.NaN) - call.startedAt)
      })
      for (const attempt of attempts.filter((attempt) => attempt.outcome === 'skipped')) {
        expect(attempt).toMatchObject({ retry: 0, durationMs: 0 })
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'tries targets in chain order, retrying and falling back only as the policy says',
    async (scenario) => {
      replay(await observe(scenario))
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'returns the first success: the first call whose script answers in time',
    async (scenario) => {
      const observed = await observe(scenario)
      const entries = replay(observed)
      const tried = attemptsOf(observed).filter((attempt) => attempt.outcome !== 'skipped')
      observed.log.forEach((call, index) => {
        const entry = entryOf(observed.plan, entries[index] as number)
        expect(tried[index]).toMatchObject(expectedAttempt(observed, call, entry))
      })
      const { result } = observed
      if (result.status !== 'fulfilled') {
        expect(tried.every((attempt) => attempt.outcome === 'error')).toBe(true)
        return
      }
      const firstOk = tried.findIndex((attempt) => attempt.outcome === 'ok')
      const winner = firstOk === -1 ? findLastFiltered(tried) : firstOk
      const call = observed.log[winner] as LoggedCall
      const entry = entryOf(observed.plan, entries[winner] as number)
      expect(firstOk === -1 || firstOk === tried.length - 1).toBe(true)
      expect(result.value).toMatchObject({
        text: 'ok' in call.script ? call.script.ok : undefined,
        provider: call.provider,
        model: call.model,
        target: entry.target,
        finishReason: firstOk === -1 ? 'content_filter' : 'stop',
      })
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'stops everything on an abort: rejects with aborted at once and starts no provider call after it',
    async (scenario) => {
      const observed = await observe(scenario)
      const { abort, result } = observed
      if (abort === undefined) return
      expect(errorOf(observed)?.kind).toBe('aborted')
      expect(result.at).toBe(abort.at)
      expect(observed.log).toHaveLength(abort.calls)
      expect(abort.inFlight.length).toBeLessThanOrEqual(1)
      for (const call of abort.inFlight) expect(call.signal.aborted).toBe(true)
      expect(result.pending).toBe(0)
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'fails with all_failed listing every attempt, the smallest Retry-After and the last error as cause',
    async (scenario) => {
      const observed = await observe(scenario)
      const error = errorOf(observed)
      if (error?.kind !== 'all_failed') return
      const tried = error.attempts.filter((attempt) => attempt.outcome !== 'skipped')
      expect(tried).toHaveLength(observed.log.length)
      expect(tried.every((attempt) => attempt.outcome === 'error')).toBe(true)
      const waits = tried.flatMap((attempt) => attempt.error?.retryAfterMs ?? [])
      expect(error.retryAfterMs).toBe(waits.length === 0 ? undefined : Math.min(...waits))
      const last = tried[tried.length - 1]
      expect(isUnderstudyError(error.cause)).toBe(true)
      expect(error.cause).toMatchObject({ kind: last?.error?.kind, message: last?.error?.message })
    },
  )
})

function findLastFiltered(tried: readonly Attempt[]): number {
  for (let index = tried.length - 1; index >= 0; index--) {
    const attempt = tried[index]
    if (attempt?.error?.kind === 'content_policy' && attempt.status === 200) return index
  }
  throw new Error('a filtered answer was returned, but no attempt was filtered')
}
