import type { Plan, PlanEntry } from './build-plan.js'
import { copyPlain } from './attempt-request.js'
import type { AssistantMessage, ChatRequest, ToolCall } from './chat-request.js'
import type { ChatResponse, ProviderResponse, Usage } from './chat-response.js'
import type { Clock } from './clock.js'
import { type DecisionState, decide, firstStep, type Outcome, type Step } from './decide.js'
import { type Attempt, UnderstudyError } from './errors.js'
import { emitHook, isThenable, reportHookError } from './emit-hook.js'
import type { HealthStore, HealthThresholds } from './health-store.js'
import type { Hooks } from './hooks.js'
import { countsAgainstHealth, type Policy } from './policy.js'
import { abortedError, deadlineError, runAttempt } from './run-attempt.js'
import { sleep } from './sleep.js'

/** Everything one call runs with, resolved from the client's and the call's options. */
export interface CallSettings {
  readonly plan: Plan
  readonly policy: Policy
  readonly clock: Clock
  readonly random: () => number
  /** When the call must be over, in clock ms; `Infinity` for never. */
  readonly deadline: number
  readonly timeoutMs: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly signal: AbortSignal | undefined
  /** The client's hooks, then the call's. */
  readonly hooks: readonly Hooks[]
  readonly health:
    | { readonly store: HealthStore; readonly thresholds: HealthThresholds }
    | undefined
  /** Every key and header value the call knows, redacted from every error. */
  readonly secrets: readonly string[]
}

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
          record(attempts, hooks, {
            target: entry.target,
            provider: entry.provider.id,
            model: entry.model,
            outcome: isFiltered ? 'error' : 'ok',
            ...(isFiltered && {
              error: { kind: 'content_policy', message: `${entry.target} filtered its answer` },
            }),
            ...(result.response.status !== undefined && { status: result.response.status }),
            retry: step.retry,
            durationMs,
          })
          recordHealth(settings, entry, plan, { ok: true, at: ended })
        } else {
          const { error } = result
          lastError = error
          outcome = { type: 'error', kind: error.kind, retryAfterMs: error.retryAfterMs }
          record(attempts, hooks, {
            target: entry.target,
            provider: entry.provider.id,
            model: entry.model,
            outcome: 'error',
            error: {
              kind: error.kind,
              message: error.message,
              ...(error.status !== undefined && { status: error.status }),
              ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
            },
            ...(error.status !== undefined && { status: error.status }),
            retry: step.retry,
            durationMs,
          })
          if (countsAgainstHealth(error.kind)) {
            recordHealth(settings, entry, plan, {
              ok: false,
              at: ended,
              ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
            })
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

/**
 * Per group, whether the health store says it is cooling down now. Answers
 * at once when the store does, so a call with a synchronous store never
 * waits a tick for it.
 */
function readCooldowns(settings: CallSettings): readonly boolean[] | Promise<readonly boolean[]> {
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

function recordHealth(
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

function record(attempts: Attempt[], hooks: readonly Hooks[], attempt: Attempt): void {
  const frozen = Object.freeze(attempt)
  attempts.push(frozen)
  if (hooks.length > 0) emitHook(hooks, 'onAttempt', frozen)
}

function skippedAttempt(entry: PlanEntry): Attempt {
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
function announce(
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

function respond(
  response: ProviderResponse,
  entry: PlanEntry,
  attempts: readonly Attempt[],
): ChatResponse {
  // Field by field rather than a spread: V8 builds this literal ~30x faster.
  // The containers are copied: a provider that hands every call the same
  // objects must not make two callers share them (rule 1).
  return Object.freeze({
    text: response.text,
    message: copyPlain(response.message) as AssistantMessage,
    toolCalls: copyPlain(response.toolCalls) as readonly ToolCall[],
    ...(response.reasoning !== undefined && { reasoning: response.reasoning }),
    finishReason: response.finishReason,
    usage: copyPlain(response.usage) as Usage,
    ...(response.status !== undefined && { status: response.status }),
    ...(response.requestId !== undefined && { requestId: response.requestId }),
    provider: entry.provider.id,
    model: entry.model,
    target: entry.target,
    attempts: Object.freeze(attempts.slice()),
  })
}

/** `error` as the call's error: its fields, the call's attempts, and the attempt's error as cause. */
function withAttempts(
  error: UnderstudyError,
  attempts: readonly Attempt[],
  cause?: UnderstudyError,
): UnderstudyError {
  return new UnderstudyError({
    kind: error.kind,
    message: error.message,
    provider: error.provider,
    model: error.model,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    requestId: error.requestId,
    attempts: Object.freeze(attempts.slice()),
    cause: cause ?? error.cause,
  })
}

/** The error of a call whose chain ran out: every attempt, the last error as cause. */
function allFailed(
  attempts: readonly Attempt[],
  lastError: UnderstudyError | undefined,
): UnderstudyError {
  let retryAfterMs: number | undefined
  for (const attempt of attempts) {
    const wait = attempt.error?.retryAfterMs
    if (wait !== undefined && (retryAfterMs === undefined || wait < retryAfterMs))
      retryAfterMs = wait
  }
  const summary = attempts
    .map((attempt) =>
      attempt.outcome === 'error'
        ? `${attempt.target} ${attempt.error?.kind ?? 'unknown'}${attempt.status === undefined ? '' : ` ${attempt.status}`}`
        : `${attempt.target} ${attempt.outcome}`,
    )
    .join(', ')
  const tried = attempts.filter((attempt) => attempt.outcome !== 'skipped').length
  return new UnderstudyError({
    kind: 'all_failed',
    message: `All targets failed after ${tried} attempt${tried === 1 ? '' : 's'}: ${summary}`,
    retryAfterMs,
    attempts: Object.freeze(attempts.slice()),
    cause: lastError,
  })
}
