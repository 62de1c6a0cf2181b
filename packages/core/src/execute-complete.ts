import type { PlanEntry } from './build-plan.js'
import { abortedError } from './call-errors.js'
import { type AttemptRef, CallRun } from './call-run.js'
import type { CallSettings } from './call-settings.js'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse, ProviderResponse } from './chat-response.js'
import type { UnderstudyError } from './errors.js'
import { emitHook, isThenable } from './emit-hook.js'
import { respond } from './respond.js'
import { runAttempt } from './run-attempt.js'
import { sleep } from './sleep.js'

export type { CallSettings } from './call-settings.js'

/** A filtered answer, kept in case nothing better comes. */
interface FilteredAnswer {
  readonly response: ProviderResponse
  readonly entry: PlanEntry
}

/**
 * Drives one `complete()` call: runs each attempt its {@link CallRun} asks
 * for, one at a time, until one answers or the call ends.
 */
export async function executeComplete(
  request: ChatRequest,
  settings: CallSettings,
): Promise<ChatResponse> {
  const { plan, clock, signal, hooks } = settings
  const run = new CallRun<FilteredAnswer>(settings)
  const fail = (error: UnderstudyError): never => {
    emitHook(hooks, 'onFailure', error)
    throw error
  }
  const succeed = (response: ChatResponse): ChatResponse => {
    emitHook(hooks, 'onSuccess', response)
    return response
  }
  if (signal?.aborted === true) fail(run.withTrace(abortedError(signal.reason)))

  const pending = run.readCooldowns()
  let step = run.start(isThenable(pending) ? await pending : pending)
  for (;;) {
    if (step.type === 'succeed') throw new RangeError('executeComplete: no attempt answered')
    if (step.type !== 'attempt') {
      const ending = run.end(step)
      if (ending.type === 'error') return fail(ending.error)
      const { response, entry } = ending.answer
      // No target left to ask: the filtered answer is the best there is, and says so.
      return succeed(respond(response, entry, run.attempts))
    }
    run.recordSkipped(step)
    if (step.delayMs > 0 && !(await sleep(step.delayMs, clock, signal))) {
      fail(run.withTrace(abortedError(signal?.reason)))
    }
    if (signal?.aborted === true) fail(run.withTrace(abortedError(signal.reason)))
    const started = clock.now()
    const late = run.pastDeadline(started)
    if (late !== undefined) fail(late)

    const entry = plan.entries[step.entry] as PlanEntry
    const attempt: AttemptRef = { index: step.entry, entry, retry: step.retry, started }
    const result = await runAttempt(request, entry, settings, started)
    const ended = clock.now()
    if (result.type === 'error') {
      step = run.failed(attempt, result.error, ended)
    } else if (result.response.finishReason === 'content_filter') {
      const { response } = result
      step = run.filtered(attempt, { response, entry }, ended, response.status)
    } else {
      run.succeeded(attempt, ended, result.response.status)
      return succeed(respond(result.response, entry, run.attempts))
    }
  }
}
