import type { ChainName, Plan } from './build-plan.js'
import type { ErrorKind } from './errors.js'
import { isPolicyKind, kindSpec } from './kinds.js'
import type { Policy } from './policy.js'

/** What the call has done so far. A fresh value per step; never written. */
export interface DecisionState {
  /** The chain the call is moving along. */
  readonly chain: ChainName
  /** The entry of the latest attempt; -1 before the first. */
  readonly entry: number
  /** Attempts made per group (target). */
  readonly attempts: readonly number[]
  /** Groups the call has moved on from (or skipped for good): never attempted again. */
  readonly finished: readonly boolean[]
  /** Groups whose skip (cooldown) is already in the trace. */
  readonly skipped: readonly boolean[]
}

/** The latest attempt's outcome, as the policy sees it. */
export type Outcome =
  | { readonly type: 'ok' }
  | { readonly type: 'error'; readonly kind: ErrorKind; readonly retryAfterMs?: number | undefined }

/** The next thing the executor does. */
export type Step =
  | {
      readonly type: 'attempt'
      /** The plan entry to attempt. */
      readonly entry: number
      /** 0 for the target's first attempt in this call. */
      readonly retry: number
      /** How long to wait first, in ms (0 when moving to another target). */
      readonly delayMs: number
      /** Cooling entries passed over on the way, to record as skipped. */
      readonly skipped: readonly number[]
    }
  /** The latest attempt answered: return its response. */
  | { readonly type: 'succeed' }
  /** The latest attempt's error ends the call (its kind says why). */
  | { readonly type: 'stop' }
  /** No target is left: the call has failed (`all_failed`). */
  | { readonly type: 'exhausted' }
  /** The call's deadline has passed. */
  | { readonly type: 'deadline' }

/** Everything one decision depends on. */
export interface DecideInput {
  readonly plan: Plan
  readonly state: DecisionState
  readonly outcome: Outcome
  readonly policy: Policy
  /** Per group: is it cooling down? */
  readonly cooled: readonly boolean[]
  /** What is left of the call's deadline, in ms. */
  readonly remainingMs: number
  /** A number in [0, 1) for the backoff's jitter. */
  readonly random: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
}

/** A decision: the next step and the state after it. */
export interface Decision {
  readonly state: DecisionState
  readonly step: Step
}

/**
 * The first step of a call: its primary, or — when the primary is cooling
 * down — the first target of the main chain that is not.
 */
export function firstStep(plan: Plan, cooled: readonly boolean[]): Decision {
  const groups = plan.groupKeys.length
  const state: DecisionState = {
    chain: 'main',
    entry: -1,
    attempts: new Array<number>(groups).fill(0),
    finished: new Array<boolean>(groups).fill(false),
    skipped: new Array<boolean>(groups).fill(false),
  }
  return moveOn(plan, state, 'main', cooled)
}

/**
 * The policy, as a pure function: given the plan, what has happened so far
 * and the latest outcome, the next step. Retries a target while its kind
 * allows and it has attempts left and the wait fits the deadline and the
 * cap; otherwise falls back along the chain (or the special chain for
 * `context_window` and `content_policy`), or stops.
 */
export function decide(input: DecideInput): Decision {
  const { plan, state, outcome } = input
  if (outcome.type === 'ok') return { state, step: { type: 'succeed' } }

  const kind = outcome.kind
  if (!isPolicyKind(kind)) return { state, step: { type: 'stop' } }
  if (input.remainingMs <= 0) return { state, step: { type: 'deadline' } }

  const entry = plan.entries[state.entry]
  if (entry === undefined)
    throw new RangeError(`decide: no attempt has been made (entry ${state.entry})`)
  const rule = input.policy[kind]
  const made = state.attempts[entry.group] ?? 0

  if (rule.retry && made < entry.maxAttempts) {
    const ceiling = Math.min(input.maxDelayMs, input.initialDelayMs * 2 ** (made - 1))
    const delayMs = outcome.retryAfterMs ?? Math.floor(input.random * ceiling)
    if (delayMs <= input.maxDelayMs && delayMs < input.remainingMs) {
      return {
        state: { ...state, attempts: bump(state.attempts, entry.group) },
        step: { type: 'attempt', entry: state.entry, retry: made, delayMs, skipped: [] },
      }
    }
  }
  if (!rule.fallback) return { state, step: { type: 'stop' } }

  const finished = state.finished.slice()
  finished[entry.group] = true
  const special = kindSpec(kind).chain
  const chain = special !== undefined && plan.chains[special] !== undefined ? special : state.chain
  return moveOn(plan, { ...state, finished }, chain, input.cooled)
}

/**
 * The target to start beside the running attempt (`state.entry`) when it has
 * been silent too long (hedging): the one moving on from it would pick.
 * `undefined` when no target is left. In the state returned, the running
 * target counts as moved on from, so no later step picks it again; its
 * attempt may still be retried if it fails.
 */
export function hedge(
  plan: Plan,
  state: DecisionState,
  cooled: readonly boolean[],
): Decision | undefined {
  const entry = plan.entries[state.entry]
  if (entry === undefined)
    throw new RangeError(`hedge: no attempt is running (entry ${state.entry})`)
  const finished = state.finished.slice()
  finished[entry.group] = true
  const decision = moveOn(plan, { ...state, finished }, state.chain, cooled)
  return decision.step.type === 'attempt' ? decision : undefined
}

/**
 * The first target of `chain` the call has not finished with, in order,
 * passing over cooling ones; when only cooling ones are left, the first of
 * them: a call never fails without trying.
 */
function moveOn(
  plan: Plan,
  state: DecisionState,
  chain: ChainName,
  cooled: readonly boolean[],
): Decision {
  const indices = plan.chains[chain] ?? []
  const passed: number[] = []
  let deferred = -1
  for (const index of indices) {
    const entry = plan.entries[index]
    const group = entry?.group ?? -1
    if (state.finished[group] === true) continue
    // Used up, though never moved on from: a hedge's loser (rule 5 holds either way).
    if ((state.attempts[group] ?? 0) >= (entry?.maxAttempts ?? 0)) continue
    if (cooled[group] === true) {
      if (deferred === -1) deferred = index
      if (state.skipped[group] !== true && !passed.includes(group)) passed.push(group)
      continue
    }
    return attempt(plan, state, chain, index, passed)
  }
  // Only cooling targets are left: they are all tried in order, so none is skipped.
  if (deferred !== -1) return attempt(plan, state, chain, deferred, [])
  return { state: { ...state, chain }, step: { type: 'exhausted' } }
}

function attempt(
  plan: Plan,
  state: DecisionState,
  chain: ChainName,
  index: number,
  passedGroups: readonly number[],
): Decision {
  const group = plan.entries[index]?.group ?? -1
  let skipped = state.skipped
  const passed: number[] = []
  for (const passedGroup of passedGroups) {
    if (passedGroup === group) continue // attempted now: no skip to record
    if (skipped === state.skipped) skipped = skipped.slice()
    ;(skipped as boolean[])[passedGroup] = true
    const first = (plan.chains[chain] ?? []).find((i) => plan.entries[i]?.group === passedGroup)
    if (first !== undefined) passed.push(first)
  }
  return {
    state: { ...state, chain, entry: index, attempts: bump(state.attempts, group), skipped },
    step: {
      type: 'attempt',
      entry: index,
      retry: state.attempts[group] ?? 0,
      delayMs: 0,
      skipped: passed,
    },
  }
}

function bump(counts: readonly number[], group: number): readonly number[] {
  const next = counts.slice()
  next[group] = (next[group] ?? 0) + 1
  return next
}
