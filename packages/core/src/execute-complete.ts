import type { PlanEntry } from './build-plan.js'
import { allFailed, abortedError, deadlineError, withAttempts } from './call-errors.js'
import { readCooldowns, recordHealth } from './call-health.js'
import type { CallSettings } from './call-settings.js'
import {
  announce,
  attemptError,
  attemptRecord,
  healthRecord,
  record,
  skippedAttempt,
} from './call-trace.js'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse, ProviderResponse } from './chat-response.js'
import { decide, firstStep, type Outcome } from './decide.js'
import type { Attempt, UnderstudyError } from './errors.js'
import { emitHook, isThenable } from './emit-hook.js'
import { countsAgainstHealth } from './policy.js'
import { respond } from './respond.js'
import { runAttempt } from './run-attempt.js'
import { sleep } from './sleep.js'

export type { CallSettings } from './call-settings.js'

/**
 * Drives one `complete()` call: performs each step {@link decide} returns
 * until one succeeds or the call fails. All per-call state lives here, in
 * locals.
 */
export async function executeComplete(
  request: ChatRequest,
  settings: CallSettings,
): Promise<ChatResponse> {
  const { plan, clock, signal, hooks } = settings
  const attempts: Attempt[] = []
  const fail = (error: UnderstudyError): never => {
    emitHook(hooks, 'onFailure', error)
    throw error
  }
  if (signal?.aborted === true) fail(withAttempts(abortedError(signal.reason), attempts))

  const pendingCooled = readCooldowns(settings)
  const cooled = isThenable(pendingCooled) ? await pendingCooled : pendingCooled
  let { state, step } = firstStep(plan, cooled)
  let lastError: UnderstudyError | undefined
  let lastResponse: ProviderResponse | undefined
  let filtered: { readonly response: ProviderResponse; readonly entry: PlanEntry } | undefined

  for (;;) {
    switch (step.type) {
      case 'attempt': {
        const entry = plan.entries[step.entry] as PlanEntry
        for (const index of step.skipped) {
          record(attempts, hooks, skippedAttempt(plan.entries[index] as PlanEntry))
        }
        if (step.delayMs > 0 && !(await sleep(step.delayMs, clock, signal))) {
          fail(withAttempts(abortedError(signal?.reason), attempts))
        }
        if (signal?.aborted === true) fail(withAttempts(abortedError(signal.reason), attempts))
        const started = clock.now()
        if (started >= settings.deadline) {
          fail(withAttempts(deadlineError(settings.timeoutMs), attempts, lastError))
        }

        const result = await runAttempt(request, entry, settings, started)
        const ended = clock.now()
        const durationMs = ended - started
        let outcome: Outcome
        if (result.type === 'ok') {
          lastResponse = result.response
          const isFiltered = result.response.finishReason === 'content_filter'
          if (isFiltered) filtered = { response: result.response, entry }
          outcome = isFiltered ? { type: 'error', kind: 'content_policy' } : { type: 'ok' }
          record(
            attempts,
            hooks,
            attemptRecord(
              entry,
              isFiltered ? 'error' : 'ok',
              step.retry,
              durationMs,
              isFiltered
                ? { kind: 'content_policy', message: `${entry.target} filtered its answer` }
                : undefined,
              result.response.status,
            ),
          )
          recordHealth(settings, entry, plan, { ok: true, at: ended })
        } else {
          const { error } = result
          lastError = error
          outcome = { type: 'error', kind: error.kind, retryAfterMs: error.retryAfterMs }
          record(
            attempts,
            hooks,
            attemptRecord(
              entry,
              'error',
              step.retry,
              durationMs,
              attemptError(error),
              error.status,
            ),
          )
          if (countsAgainstHealth(error.kind)) {
            recordHealth(settings, entry, plan, healthRecord(false, ended, error.retryAfterMs))
          }
        }

        const previous = state
        ;({ state, step } = decide({
          plan,
          state,
          outcome,
          policy: settings.policy,
          cooled,
          remainingMs: settings.deadline - ended,
          random: outcome.type === 'ok' ? 0 : settings.random(),
          initialDelayMs: settings.initialDelayMs,
          maxDelayMs: settings.maxDelayMs,
        }))
        announce(hooks, plan, previous, step, attempts)
        break
      }
      case 'succeed': {
        const response = respond(
          lastResponse as ProviderResponse,
          plan.entries[state.entry] as PlanEntry,
          attempts,
        )
        emitHook(hooks, 'onSuccess', response)
        return response
      }
      case 'stop':
        return fail(withAttempts(lastError as UnderstudyError, attempts))
      case 'deadline':
        return fail(withAttempts(deadlineError(settings.timeoutMs), attempts, lastError))
      case 'exhausted': {
        if (filtered !== undefined) {
          // No target left to ask: the filtered answer is the best there is, and says so.
          const response = respond(filtered.response, filtered.entry, attempts)
          emitHook(hooks, 'onSuccess', response)
          return response
        }
        return fail(allFailed(attempts, lastError))
      }
      default:
        step satisfies never
        throw new TypeError('unknown step')
    }
  }
}
