import { isUnderstudyError, UnderstudyError } from './errors.js'
import { redactSecrets } from './redact.js'

/** Where an error came from: the target of the attempt it ended. */
export interface ErrorOrigin {
  readonly provider: string
  readonly model: string
}

/**
 * Whatever a provider threw, as an {@link UnderstudyError} of the attempt:
 * an `UnderstudyError` keeps its kind and fields; anything else is kind
 * `unknown` with the original as `cause`. Every secret the call knows is
 * redacted from the message and from the cause, which is replaced by a
 * redacted copy when it holds one.
 */
export function toUnderstudyError(
  thrown: unknown,
  origin: ErrorOrigin,
  secrets: readonly string[],
): UnderstudyError {
  if (isUnderstudyError(thrown)) {
    const message = redactSecrets(thrown.message, secrets)
    const clean = message === thrown.message && !holdsSecret(thrown.cause, secrets)
    if (clean && thrown.provider !== undefined && thrown.model !== undefined) return thrown
    return new UnderstudyError({
      kind: thrown.kind,
      message,
      provider: thrown.provider ?? origin.provider,
      model: thrown.model ?? origin.model,
      status: thrown.status,
      retryAfterMs: thrown.retryAfterMs,
      requestId: thrown.requestId,
      attempts: thrown.attempts,
      cause: sanitizeCause(thrown.cause, secrets),
    })
  }
  const text = thrown instanceof Error ? thrown.message : String(thrown)
  return new UnderstudyError({
    kind: 'unknown',
    message: redactSecrets(`${origin.provider}/${origin.model} failed: ${text}`, secrets),
    provider: origin.provider,
    model: origin.model,
    cause: sanitizeCause(thrown, secrets),
  })
}

/** How deep a chain of causes is searched and copied. */
const maxCauseDepth = 8

function holdsSecret(value: unknown, secrets: readonly string[], depth = 0): boolean {
  if (value === undefined || value === null || secrets.length === 0 || depth > maxCauseDepth)
    return false
  // An Error's own properties (a request's headers or URL) show in JSON and in logs too.
  const text =
    value instanceof Error
      ? `${value.message}\n${value.stack ?? ''}\n${safeString(value)}`
      : safeString(value)
  if (secrets.some((secret) => secret.length >= 4 && text.includes(secret))) return true
  return value instanceof Error && holdsSecret(value.cause, secrets, depth + 1)
}

/**
 * The cause itself when nothing in its chain holds a secret; else a plain
 * `Error` copy of the chain, message and stack redacted at every level.
 */
function sanitizeCause(cause: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!holdsSecret(cause, secrets, depth)) return cause
  const message = cause instanceof Error ? cause.message : safeString(cause)
  const inner = cause instanceof Error ? sanitizeCause(cause.cause, secrets, depth + 1) : undefined
  const copy = new Error(
    redactSecrets(message, secrets),
    inner === undefined ? undefined : { cause: inner },
  )
  if (cause instanceof Error) {
    copy.name = cause.name
    if (cause.stack !== undefined) copy.stack = redactSecrets(cause.stack, secrets)
  }
  return copy
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    return String(value)
  }
}
