import { fc, it } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import {
  buildPlan,
  type ChainName,
  type Plan,
  type PlanEntry,
  type PlanOptions,
} from './build-plan.js'
import {
  type DecideInput,
  type Decision,
  type DecisionState,
  decide,
  firstStep,
  hedge,
  type Outcome,
  type Step,
} from './decide.js'
import { type ErrorKind, errorKinds } from './errors.js'
import {
  defaultPolicy,
  type KindRule,
  type Policy,
  type PolicyKind,
  type PolicyOverrides,
  resolvePolicy,
} from './policy.js'
import type { Provider } from './provider.js'
import type { Target, TargetObject } from './target.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { mockProvider } from './test-support/mock-provider.js'
import { TargetNames } from './target-names.js'

type AttemptStep = Extract<Step, { type: 'attempt' }>

const providers: ReadonlyMap<string, Provider> = new Map(
  ['alpha', 'beta'].map((id) => [id, mockProvider(id)] as const),
)

/** Kinds that end the call whatever the policy says. */
const stopKinds: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'aborted',
  'deadline',
  'config',
  'all_failed',
])

const noOptions: PlanOptions = Object.freeze({
  fallbacks: undefined,
  contextWindowFallbacks: undefined,
  contentPolicyFallbacks: undefined,
  retries: 1,
  attemptTimeoutMs: undefined,
  apiKey: undefined,
  baseURL: undefined,
  headers: undefined,
})

function plan(model: string, options: Partial<PlanOptions> = {}): Plan {
  const request = { model, messages: [{ role: 'user' as const, content: 'hi' }] }
  return deepFreeze(buildPlan(request, { ...noOptions, ...options }, new TargetNames(providers)))
}

function entryOf(plan: Plan, index: number): PlanEntry {
  const entry = plan.entries[index]
  if (entry === undefined) throw new Error(`no plan entry ${index}`)
  return entry
}

function ruleOf(policy: Policy, kind: ErrorKind): KindRule {
  return policy[kind as PolicyKind]
}

// ---------------------------------------------------------------------------
// Examples

describe('decide', () => {
  const chain = plan('alpha/a', { fallbacks: ['alpha/b', 'beta/c'], retries: 1 })
  const settings = {
    plan: chain,
    policy: defaultPolicy,
    cooled: [],
    remainingMs: 60_000,
    random: 0.5,
    initialDelayMs: 500,
    maxDelayMs: 10_000,
  }
  const next = (
    decision: Decision,
    outcome: Outcome,
    changes: Partial<DecideInput> = {},
  ): Decision => decide({ ...settings, state: decision.state, outcome, ...changes })
  const fail = (kind: ErrorKind, retryAfterMs?: number): Outcome => ({
    type: 'error',
    kind,
    retryAfterMs,
  })
  const start = firstStep(chain, [])

  it('attempts the primary first, with no wait and nothing skipped', () => {
    expect(start.step).toEqual({ type: 'attempt', entry: 0, retry: 0, delayMs: 0, skipped: [] })
  })

  it('succeeds on an ok outcome', () => {
    expect(next(start, { type: 'ok' }).step).toEqual({ type: 'succeed' })
  })

  it('retries a rate_limit after its Retry-After, then falls back to the next target', () => {
    const retry = next(start, fail('rate_limit', 2_000))
    expect(retry.step).toEqual({ type: 'attempt', entry: 0, retry: 1, delayMs: 2_000, skipped: [] })
    const fallback = next(retry, fail('rate_limit', 2_000))
    expect(fallback.step).toEqual({ type: 'attempt', entry: 1, retry: 0, delayMs: 0, skipped: [] })
  })

  it('waits a jittered time below initialDelayMs before the first retry without Retry-After', () => {
    expect(next(start, fail('server')).step).toMatchObject({ entry: 0, retry: 1, delayMs: 250 })
  })

  it('moves to the next target at once when Retry-After is longer than maxDelayMs', () => {
    expect(next(start, fail('rate_limit', 10_001)).step).toMatchObject({ entry: 1, delayMs: 0 })
  })

  it('moves to the next target at once when the wait does not fit the time left', () => {
    expect(next(start, fail('rate_limit', 3_000), { remainingMs: 3_000 }).step).toMatchObject({
      entry: 1,
      delayMs: 0,
    })
  })

  it('stops on invalid_request, and on aborted even with no time left', () => {
    expect(next(start, fail('invalid_request')).step).toEqual({ type: 'stop' })
    expect(next(start, fail('aborted'), { remainingMs: -5 }).step).toEqual({ type: 'stop' })
  })

  it('falls back on invalid_request when the policy says so', () => {
    const policy = resolvePolicy({ invalid_request: { fallback: true } })
    expect(next(start, fail('invalid_request'), { policy }).step).toMatchObject({ entry: 1 })
  })

  it('gives deadline when no time is left', () => {
    expect(next(start, fail('server'), { remainingMs: 0 }).step).toEqual({ type: 'deadline' })
  })

  it('is exhausted when the last target fails', () => {
    const only = plan('alpha/a', { retries: 0 })
    expect(
      decide({ ...settings, plan: only, state: firstStep(only, []).state, outcome: fail('server') })
        .step,
    ).toEqual({ type: 'exhausted' })
  })

  it('moves a context_window failure to the context-window chain, else along the current chain', () => {
    const withWindow = plan('alpha/a', {
      fallbacks: ['alpha/b'],
      contextWindowFallbacks: ['beta/long'],
    })
    const moved = decide({
      ...settings,
      plan: withWindow,
      state: firstStep(withWindow, []).state,
      outcome: fail('context_window'),
    })
    expect(moved.step).toMatchObject({ type: 'attempt', entry: 2 })
    expect(moved.state.chain).toBe('context_window')
    expect(next(start, fail('context_window')).step).toMatchObject({ type: 'attempt', entry: 1 })
  })

  it('passes over a cooling primary and reports it skipped once', () => {
    const cooled = [true, false, false]
    const first = firstStep(chain, cooled)
    expect(first.step).toEqual({ type: 'attempt', entry: 1, retry: 0, delayMs: 0, skipped: [0] })
    const second = next(first, fail('auth'), { cooled })
    expect(second.step).toEqual({ type: 'attempt', entry: 2, retry: 0, delayMs: 0, skipped: [] })
  })

  it('tries cooling targets in order when only cooling ones are left', () => {
    const cooled = [true, true, true]
    const first = firstStep(chain, cooled)
    expect(first.step).toEqual({ type: 'attempt', entry: 0, retry: 0, delayMs: 0, skipped: [] })
    expect(next(first, fail('auth'), { cooled }).step).toMatchObject({ entry: 1, skipped: [] })
  })
})

// ---------------------------------------------------------------------------
// Properties: random plans and random outcome scripts, decided until the call ends.

interface Scenario {
  readonly plan: Plan
  readonly cooled: readonly boolean[]
  readonly policy: Policy
  /** The outcome of the n-th attempt is `outcomes[n % length]`. */
  readonly outcomes: readonly Outcome[]
  /** What is left of the deadline at the first decision. */
  readonly budgetMs: number
  /** Time spent before each decision, cycled. */
  readonly elapsedMs: readonly number[]
  readonly randoms: readonly number[]
  readonly initialDelayMs: number
  readonly maxDelayMs: number
}

/** One decision: the attempt it follows, that attempt's outcome, and what decide said. */
interface Turn {
  readonly attempt: AttemptStep
  /** Attempts of the attempt's target so far, counted by the test, this one included. */
  readonly made: number
  readonly before: DecisionState
  readonly outcome: Outcome
  readonly remainingMs: number
  readonly random: number
  readonly after: Decision
}

interface Run {
  readonly first: Decision
  readonly turns: readonly Turn[]
  /** The step that ended the call. */
  readonly last: Step
}

/** The most attempts a plan can need: each target's largest `maxAttempts`. */
function attemptBound(plan: Plan): number {
  const most = new Map<number, number>()
  for (const entry of plan.entries)
    most.set(entry.group, Math.max(most.get(entry.group) ?? 0, entry.maxAttempts))
  return [...most.values()].reduce((sum, value) => sum + value, 0)
}

function cycled<T>(values: readonly T[], index: number): T {
  return values[index % values.length] as T
}

/** Decides until a step other than 'attempt'; throws when that takes more than the bound. */
function run(scenario: Scenario): Run {
  const { plan, cooled } = scenario
  const first = firstStep(plan, cooled)
  const turns: Turn[] = []
  const counts = new Map<number, number>()
  let decision = first
  let remainingMs = scenario.budgetMs
  const bound = attemptBound(plan)
  while (decision.step.type === 'attempt') {
    if (turns.length > bound)
      throw new Error(`the chain did not end after ${turns.length} attempts`)
    const attempt = decision.step
    const group = entryOf(plan, attempt.entry).group
    const made = (counts.get(group) ?? 0) + 1
    counts.set(group, made)
    remainingMs -= cycled(scenario.elapsedMs, turns.length)
    const input: DecideInput = deepFreeze({
      plan,
      state: decision.state,
      outcome: cycled(scenario.outcomes, turns.length),
      policy: scenario.policy,
      cooled,
      remainingMs,
      random: cycled(scenario.randoms, turns.length),
      initialDelayMs: scenario.initialDelayMs,
      maxDelayMs: scenario.maxDelayMs,
    })
    const after = decide(input)
    turns.push({
      attempt,
      made,
      before: input.state,
      outcome: input.outcome,
      remainingMs,
      random: input.random,
      after,
    })
    decision = after
  }
  return { first, turns, last: decision.step }
}

/** The wait before retrying the same target after `turn`, or undefined when it must not retry. */
function expectedRetryDelay(scenario: Scenario, turn: Turn): number | undefined {
  const { outcome } = turn
  if (outcome.type !== 'error' || stopKinds.has(outcome.kind) || turn.remainingMs <= 0)
    return undefined
  const entry = entryOf(scenario.plan, turn.attempt.entry)
  if (!ruleOf(scenario.policy, outcome.kind).retry || turn.made >= entry.maxAttempts)
    return undefined
  const ceiling = Math.min(scenario.maxDelayMs, scenario.initialDelayMs * 2 ** (turn.made - 1))
  const delayMs = outcome.retryAfterMs ?? Math.floor(turn.random * ceiling)
  return delayMs <= scenario.maxDelayMs && delayMs < turn.remainingMs ? delayMs : undefined
}

function isRetry(turn: Turn): boolean {
  return turn.after.step.type === 'attempt' && turn.after.step.entry === turn.attempt.entry
}

/** The turn's decision moved the call to another target, or found none left. */
function isMove(turn: Turn): boolean {
  return (
    turn.after.step.type === 'exhausted' || (turn.after.step.type === 'attempt' && !isRetry(turn))
  )
}

interface Move {
  readonly entry: number
  /** Entries whose cooling target is passed over, to report as skipped. */
  readonly skipped: readonly number[]
}

/**
 * DESIGN.md's order: the first entry of `chain` whose target the call has not
 * finished with and is not cooling; cooling ones passed over are reported
 * (once per call); when only cooling ones are left, the first of them.
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

/** Calls `check` on every move of the run with the move the test expects, tracking chain and finished targets. */
function forEachMove(
  scenario: Scenario,
  result: Run,
  check: (step: Step, expected: Move | undefined, chain: ChainName) => void,
): void {
  const { plan, cooled } = scenario
  const finished = new Set<number>()
  const reported = new Set<number>()
  let chain: ChainName = 'main'
  const visit = (step: Step): void => {
    const expected = expectedMove(plan, chain, finished, cooled, reported)
    check(step, expected, chain)
    for (const index of expected?.skipped ?? []) reported.add(entryOf(plan, index).group)
  }
  visit(result.first.step)
  for (const turn of result.turns) {
    if (!isMove(turn) || turn.outcome.type !== 'error') continue
    finished.add(entryOf(plan, turn.attempt.entry).group)
    const { kind } = turn.outcome
    if ((kind === 'context_window' || kind === 'content_policy') && plan.chains[kind] !== undefined)
      chain = kind
    visit(turn.after.step)
  }
}

const providerIds = ['alpha', 'beta'] as const
const modelNames = ['m1', 'm2', 'vendor/m3'] as const

function targetArbitrary(): fc.Arbitrary<Target> {
  const name = fc
    .tuple(fc.constantFrom(...providerIds), fc.constantFrom(...modelNames))
    .map(([provider, model]) => `${provider}/${model}`)
  const object: fc.Arbitrary<TargetObject> = fc.record(
    {
      model: name,
      apiKey: fc.constantFrom('key-1', 'key-2'),
      retries: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: ['model'] },
  )
  return fc.oneof({ weight: 2, arbitrary: name }, { weight: 1, arbitrary: object })
}

const frequentKinds: readonly ErrorKind[] = [
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
  'incomplete',
]
const policyKinds = errorKinds.filter((kind) => !stopKinds.has(kind)) as PolicyKind[]

function outcomeArbitrary(): fc.Arbitrary<Outcome> {
  const kind = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...frequentKinds) },
    { weight: 2, arbitrary: fc.constantFrom<ErrorKind>('context_window', 'content_policy') },
    { weight: 2, arbitrary: fc.constantFrom(...errorKinds) },
  )
  const error = fc.record({
    type: fc.constant('error' as const),
    kind,
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined, freq: 2 }),
  })
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ type: 'ok' as const }) },
    { weight: 8, arbitrary: error },
  )
}

function policyArbitrary(): fc.Arbitrary<Policy> {
  const rule = fc.record({ retry: fc.boolean(), fallback: fc.boolean() }, { requiredKeys: [] })
  const overrides: fc.Arbitrary<PolicyOverrides> = fc
    .array(fc.tuple(fc.constantFrom(...policyKinds), rule), { maxLength: 4 })
    .map((pairs) => Object.fromEntries(pairs))
  return fc.option(overrides, { nil: undefined }).map(resolvePolicy)
}

function scenarioArbitrary(): fc.Arbitrary<Scenario> {
  const special = fc.option(fc.array(targetArbitrary(), { maxLength: 3 }), {
    nil: undefined,
    freq: 2,
  })
  return fc
    .record({
      primary: fc.constantFrom('alpha/m1', 'beta/m2', 'alpha/vendor/m3'),
      options: fc.record({
        fallbacks: fc.option(fc.array(targetArbitrary(), { maxLength: 6 }), {
          nil: undefined,
          freq: 8,
        }),
        contextWindowFallbacks: special,
        contentPolicyFallbacks: special,
        retries: fc.integer({ min: 0, max: 3 }),
        apiKey: fc.option(fc.constantFrom('key-1', 'key-2'), { nil: undefined }),
      }),
      cooling: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 24 }),
      policy: policyArbitrary(),
      outcomes: fc.array(outcomeArbitrary(), { minLength: 1, maxLength: 40 }),
      budgetMs: fc.oneof(fc.constant(Infinity), fc.integer({ min: -100, max: 120_000 })),
      elapsedMs: fc.array(fc.integer({ min: 0, max: 15_000 }), { minLength: 1, maxLength: 5 }),
      randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
        minLength: 1,
        maxLength: 5,
      }),
      initialDelayMs: fc.integer({ min: 0, max: 2_000 }),
      maxDelayMs: fc.integer({ min: 0, max: 20_000 }),
    })
    .map(({ primary, options, cooling, ...rest }): Scenario => {
      const built = plan(primary, { ...options, baseURL: undefined })
      // About one target in four is cooling down.
      const cooled = deepFreeze(built.groupKeys.map((_, group) => cooling[group] === 0))
      return { ...rest, plan: built, cooled }
    })
}

const numRuns = 200

describe('decide, driven by random plans and outcomes', () => {
  it.prop([scenarioArbitrary()], { numRuns })(
    "always ends, after at most the sum of the targets' maxAttempts attempts",
    (scenario) => {
      const result = run(scenario)
      expect(result.turns.length).toBeLessThanOrEqual(attemptBound(scenario.plan))
      expect(['succeed', 'stop', 'exhausted', 'deadline']).toContain(result.last.type)
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    "never attempts a target more than its entry's maxAttempts, counting retries from 0",
    (scenario) => {
      const result = run(scenario)
      const counts = new Map<number, number>()
      for (const step of [result.first.step, ...result.turns.map((turn) => turn.after.step)]) {
        if (step.type !== 'attempt') continue
        const entry = entryOf(scenario.plan, step.entry)
        const before = counts.get(entry.group) ?? 0
        expect(step.retry).toBe(before)
        expect(before + 1).toBeLessThanOrEqual(entry.maxAttempts)
        counts.set(entry.group, before + 1)
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'succeeds on the first ok outcome, and only on an ok',
    (scenario) => {
      const result = run(scenario)
      for (const turn of result.turns) {
        expect(turn.after.step.type === 'succeed').toBe(turn.outcome.type === 'ok')
      }
      const firstOk = scenario.outcomes.findIndex((outcome) => outcome.type === 'ok')
      if (firstOk !== -1 && firstOk < result.turns.length)
        expect(result.turns.length).toBe(firstOk + 1)
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'tries targets in chain order: each new target is the first unfinished, uncooled one of its chain',
    (scenario) => {
      forEachMove(scenario, run(scenario), (step, expected) => {
        if (expected === undefined) {
          expect(step).toEqual({ type: 'exhausted' })
          return
        }
        expect(step).toMatchObject({ type: 'attempt', entry: expected.entry, delayMs: 0 })
      })
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'stops exactly for aborted, deadline and config, or a kind that does not fall back when it cannot retry',
    (scenario) => {
      for (const turn of run(scenario).turns) {
        const { outcome } = turn
        const stops =
          outcome.type === 'error' &&
          (stopKinds.has(outcome.kind) ||
            (turn.remainingMs > 0 &&
              !ruleOf(scenario.policy, outcome.kind).fallback &&
              expectedRetryDelay(scenario, turn) === undefined))
        expect(turn.after.step.type === 'stop').toBe(stops)
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'retries the same target exactly when its kind retries, it has attempts left and the wait fits',
    (scenario) => {
      for (const turn of run(scenario).turns) {
        const delayMs = expectedRetryDelay(scenario, turn)
        expect(isRetry(turn)).toBe(delayMs !== undefined)
        if (delayMs !== undefined) expect(turn.after.step).toMatchObject({ delayMs, skipped: [] })
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'waits less than the remaining time and at most maxDelayMs before a retry: Retry-After, or jitter below the ceiling',
    (scenario) => {
      for (const turn of run(scenario).turns) {
        const { step } = turn.after
        if (!isRetry(turn) || step.type !== 'attempt' || turn.outcome.type !== 'error') continue
        expect(ruleOf(scenario.policy, turn.outcome.kind).retry).toBe(true)
        expect(step.delayMs).toBeGreaterThanOrEqual(0)
        expect(step.delayMs).toBeLessThan(turn.remainingMs)
        expect(step.delayMs).toBeLessThanOrEqual(scenario.maxDelayMs)
        if (turn.outcome.retryAfterMs !== undefined) {
          expect(step.delayMs).toBe(turn.outcome.retryAfterMs)
        } else {
          const ceiling = Math.min(
            scenario.maxDelayMs,
            scenario.initialDelayMs * 2 ** (turn.made - 1),
          )
          expect(Number.isInteger(step.delayMs)).toBe(true)
          expect(step.delayMs).toBeLessThan(Math.max(ceiling, 1))
        }
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'gives deadline exactly when no time is left after a failure that does not stop the call',
    (scenario) => {
      for (const turn of run(scenario).turns) {
        const { outcome } = turn
        const deadline =
          outcome.type === 'error' && !stopKinds.has(outcome.kind) && turn.remainingMs <= 0
        expect(turn.after.step.type === 'deadline').toBe(deadline)
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'moves to the next target at once when Retry-After is longer than maxDelayMs',
    (scenario) => {
      for (const turn of run(scenario).turns) {
        const { outcome } = turn
        if (outcome.type !== 'error' || (outcome.retryAfterMs ?? 0) <= scenario.maxDelayMs) continue
        expect(isRetry(turn)).toBe(false)
        const { step } = turn.after
        if (step.type === 'attempt') {
          expect(step.delayMs).toBe(0)
          expect(entryOf(scenario.plan, step.entry).group).not.toBe(
            entryOf(scenario.plan, turn.attempt.entry).group,
          )
        }
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'moves a context_window or content_policy failure to its own chain when given, else along the current chain',
    (scenario) => {
      const { plan } = scenario
      for (const turn of run(scenario).turns) {
        const { outcome } = turn
        if (outcome.type !== 'error' || !isMove(turn)) continue
        if (outcome.kind !== 'context_window' && outcome.kind !== 'content_policy') continue
        const chain = plan.chains[outcome.kind] === undefined ? turn.before.chain : outcome.kind
        expect(turn.after.state.chain).toBe(chain)
        const { step } = turn.after
        if (step.type === 'attempt') expect(plan.chains[chain]).toContain(step.entry)
      }
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'passes over cooling targets and reports each skip once, unless only cooling ones are left',
    (scenario) => {
      const { plan, cooled } = scenario
      const reported: number[] = []
      forEachMove(scenario, run(scenario), (step, expected, chain) => {
        if (step.type !== 'attempt') return
        expect(step.skipped).toEqual(expected?.skipped)
        for (const index of step.skipped) {
          const { group } = entryOf(plan, index)
          expect(cooled[group]).toBe(true)
          expect(plan.chains[chain]).toContain(index)
          reported.push(group)
        }
        // A cooling target is attempted only when every target left in the chain is cooling.
        if (cooled[entryOf(plan, step.entry).group] === true) expect(step.skipped).toEqual([])
      })
      expect(new Set(reported).size).toBe(reported.length)
    },
  )

  it.prop([scenarioArbitrary()], { numRuns })(
    'is pure: it never writes its input, and the same input gives the same decision',
    (scenario) => {
      // run() deep-freezes every input, so a write would throw.
      for (const turn of run(scenario).turns) {
        const again = decide({
          plan: scenario.plan,
          state: turn.before,
          outcome: turn.outcome,
          policy: scenario.policy,
          cooled: scenario.cooled,
          remainingMs: turn.remainingMs,
          random: turn.random,
          initialDelayMs: scenario.initialDelayMs,
          maxDelayMs: scenario.maxDelayMs,
        })
        expect(again).toEqual(turn.after)
      }
    },
  )
})

describe('hedge', () => {
  const chain = plan('alpha/a', { fallbacks: ['alpha/b', 'beta/c'], retries: 1 })

  it('picks the target moving on would pick, and counts the running one as moved on from', () => {
    const first = firstStep(chain, [])
    const hedged = hedge(chain, first.state, [])
    expect(hedged?.step).toEqual({ type: 'attempt', entry: 1, retry: 0, delayMs: 0, skipped: [] })
    expect(hedged?.state.finished[entryOf(chain, 0).group]).toBe(true)
  })

  it('has nothing to start when the running target is the last', () => {
    const single = plan('alpha/a')
    expect(hedge(single, firstStep(single, []).state, [])).toBeUndefined()
  })

  it.prop([scenarioArbitrary()], { numRuns })(
    'starts each target at most once, never the running or a finished one, and runs out',
    (scenario) => {
      const { plan: chain, cooled } = scenario
      let decision: Decision | undefined = firstStep(chain, cooled)
      const started = new Set<number>()
      let hedges = 0
      while (decision !== undefined && decision.step.type === 'attempt') {
        const state = deepFreeze(decision.state)
        const running = entryOf(chain, decision.step.entry).group
        expect(started.has(running)).toBe(false)
        started.add(running)
        decision = hedge(chain, state, cooled)
        if (decision?.step.type === 'attempt') {
          const group = entryOf(chain, decision.step.entry).group
          expect(group).not.toBe(running)
          expect(state.finished[group]).toBe(false)
          expect(decision.state.finished[running]).toBe(true)
          hedges++
        }
      }
      expect(hedges).toBeLessThan(chain.groupKeys.length)
    },
  )
})
