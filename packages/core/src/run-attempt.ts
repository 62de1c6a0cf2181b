import { buildAttemptRequest } from './attempt-request.js'
import type { PlanEntry } from './build-plan.js'
import type { ChatRequest } from './chat-request.js'
import type { ProviderResponse } from './chat-response.js'
import type { Clock } from './clock.js'
import { UnderstudyError } from './errors.js'
import { AttemptContext } from './attempt-context.js'
import { abortedError, deadlineError } from './call-errors.js'
import { toUnderstudyError } from './to-understudy-error.js'

/** How one attempt ended. */
export type AttemptResult =
  | { readonly type: 'ok'; readonly response: ProviderResponse }
  | { readonly type: 'error'; readonly error: UnderstudyError }

/** What {@link runAttempt} needs besides the entry. */
export interface AttemptSettings {
  readonly clock: Clock
  /** The caller's signal. */
  readonly signal: AbortSignal | undefined
  /** When the call must be over, in clock ms. */
  readonly deadline: number
  /** The call's `timeoutMs`, for the `deadline` error's message. */
  readonly timeoutMs: number
  readonly secrets: readonly string[]
}

/**
 * Runs one attempt: calls the entry's provider once with a fresh request and
 * a signal that aborts on the caller's abort, the attempt's timeout or the
 * call's deadline. Settles as soon as any of those happens, even when the
 * provider ignores its signal, and never rejects: every failure is returned
 * as a typed error. Leaves no timer and no listener behind. `now` is the
 * attempt's start on `settings.clock`.
 */
export function runAttempt(
  request: ChatRequest,
  entry: PlanEntry,
  settings: AttemptSettings,
  now: number,
): Promise<AttemptResult> {
  const { clock, signal, deadline } = settings
  const remainingMs = deadline - now
  const limitMs = Math.min(entry.attemptTimeoutMs, remainingMs)
  const origin = { provider: entry.provider.id, model: entry.model }

  return new Promise<AttemptResult>((resolve) => {
    const context = new AttemptContext(entry, now + limitMs)
    let settled = false
    let timer: unknown
    const settle = (result: AttemptResult): void => {
      if (settled) return
      settled = true
      if (timer !== undefined) clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve(result)
    }
    const stop = (error: UnderstudyError): void => {
      settle({ type: 'error', error })
      context.abort(error)
    }
    function onAbort(): void {
      stop(abortedError(signal?.reason, origin))
    }

    if (Number.isFinite(limitMs)) {
      timer = clock.setTimeout(
        () => {
          timer = undefined
          stop(
            limitMs < remainingMs
              ? new UnderstudyError({
                  kind: 'timeout',
                  message: `${entry.target} did not answer within its attempt timeout of ${limitMs} ms`,
                  ...origin,
                })
              : deadlineError(settings.timeoutMs, origin),
          )
        },
        Math.max(0, limitMs),
      )
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    let pending: Promise<ProviderResponse>
    try {
      pending = Promise.resolve(
        entry.provider.complete(buildAttemptRequest(request, entry), context),
      )
    } catch (thrown) {
      settle({ type: 'error', error: toUnderstudyError(thrown, origin, settings.secrets) })
      return
    }
    pending.then(
      (response) => settle(checkResponse(response, entry)),
      (thrown: unknown) =>
        settle({ type: 'error', error: toUnderstudyError(thrown, origin, settings.secrets) }),
    )
  })
}

/** An answer with nothing in it is a failure of kind `empty`; a malformed one, `unknown`. */
function checkResponse(response: ProviderResponse, entry: PlanEntry): AttemptResult {
  const origin = { provider: entry.provider.id, model: entry.model }
  if (typeof response !== 'object' || response === null || typeof response.text !== 'string') {
    return {
      type: 'error',
      error: new UnderstudyError({
        kind: 'unknown',
        message: `${entry.target} returned a value that is not a response`,
        ...origin,
      }),
    }
  }
  const { finishReason } = response
  if (
    response.text === '' &&
    (response.toolCalls?.length ?? 0) === 0 &&
    finishReason !== 'length' &&
    finishReason !== 'content_filter'
  ) {
    return {
      type: 'error',
      error: new UnderstudyError({
        kind: 'empty',
        message: `${entry.target} answered with no text and no tool call (finish reason ${finishReason})`,
        ...origin,
        status: response.status,
        requestId: response.requestId,
      }),
    }
  }
  return { type: 'ok', response }
}
