import type { Plan, PlanEntry } from './build-plan.js'
import type { DecisionState, Step } from './decide.js'
import type { Attempt } from './errors.js'
import { emitHook } from './emit-hook.js'
import type { Hooks } from './hooks.js'

export function record(attempts: Attempt[], hooks: readonly Hooks[], attempt: Attempt): void {
  const frozen = Object.freeze(attempt)
  attempts.push(frozen)
  if (hooks.length > 0) emitHook(hooks, 'onAttempt', frozen)
}

export function skippedAttempt(entry: PlanEntry): Attempt {
  return Object.freeze({
    target: entry.target,
    provider: entry.provider.id,
    model: entry.model,
    outcome: 'skipped',
    retry: 0,
    durationMs: 0,
  })
}

/** Tells the hooks that the call retries the same target or moves on to another. */
export function announce(
  hooks: readonly Hooks[],
  plan: Plan,
  previous: DecisionState,
  step: Step,
  attempts: readonly Attempt[],
): void {
  if (hooks.length === 0 || step.type !== 'attempt') return
  const last = attempts[attempts.length - 1] as Attempt
  const before = plan.entries[previous.entry] as PlanEntry
  const next = plan.entries[step.entry] as PlanEntry
  if (next.group === before.group)
    emitHook(hooks, 'onRetry', { attempt: last, delayMs: step.delayMs })
  else emitHook(hooks, 'onFallback', { from: last, to: next.target })
}
