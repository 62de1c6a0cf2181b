import type { Plan, PlanEntry } from './build-plan.js'
import type { CallSettings } from './call-settings.js'
import { isThenable, reportHookError } from './emit-hook.js'

/**
 * Per group, whether the health store says it is cooling down now. Answers
 * at once when the store does, so a call with a synchronous store never
 * waits a tick for it.
 */
export function readCooldowns(
  settings: CallSettings,
): readonly boolean[] | Promise<readonly boolean[]> {
  const { plan, health } = settings
  if (health === undefined) return noneCooled
  const now = settings.clock.now()
  const onError = (error: unknown): readonly boolean[] => {
    // A store that fails must not fail the call: every target is taken as healthy.
    reportHookError(settings.hooks, error, 'health')
    return noneCooled
  }
  try {
    const ends = health.store.cooldowns(plan.groupKeys, now)
    return isThenable(ends)
      ? Promise.resolve(ends).then((list) => toCooled(list, now), onError)
      : toCooled(ends, now)
  } catch (error) {
    return onError(error)
  }
}

function toCooled(ends: readonly (number | undefined)[], now: number): readonly boolean[] {
  let cooled: boolean[] | undefined
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i]
    if (end === undefined || end <= now) continue
    cooled ??= new Array<boolean>(ends.length).fill(false)
    cooled[i] = true
  }
  return cooled ?? noneCooled
}

const noneCooled: readonly boolean[] = Object.freeze([])

export function recordHealth(
  settings: CallSettings,
  entry: PlanEntry,
  plan: Plan,
  record: { readonly ok: boolean; readonly at: number; readonly retryAfterMs?: number },
): void {
  const { health } = settings
  if (health === undefined) return
  try {
    const done = health.store.record(
      plan.groupKeys[entry.group] as string,
      record,
      health.thresholds,
    )
    if (isThenable(done))
      done.then(undefined, (error: unknown) => reportHookError(settings.hooks, error, 'health'))
  } catch (error) {
    reportHookError(settings.hooks, error, 'health')
  }
}
