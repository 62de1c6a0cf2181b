import { type ErrorKind, UnderstudyError } from '@understudy/core'
import { type ErrorContext, type ErrorDetails, kindFromStatus } from '@understudy/provider-kit'

/** The longest provider message kept, in characters. */
const maxMessageLength = 1000

/**
 * Anthropic's error `type`s (https://docs.anthropic.com/en/api/errors) and
 * the kind each names on its own, whatever the status (they also arrive
 * inside a 200 stream as `event: error`).
 */
const typeKinds: ReadonlyMap<string, ErrorKind> = new Map<string, ErrorKind>([
  ['rate_limit_error', 'rate_limit'],
  ['overloaded_error', 'overloaded'],
  ['authentication_error', 'auth'],
  ['permission_error', 'auth'],
  ['not_found_error', 'not_found'],
  // Cloudflare's 413 before the API sees the request: the prompt is too big for any window of this model.
  ['request_too_large', 'context_window'],
  ['billing_error', 'quota'],
])

/**
 * Broad `type`s that decide only when no status does (an `event: error`
 * inside a 200): with a status, the status says more (`api_error` comes
 * with a 500 and a 503 alike).
 */
const broadTypeKinds: ReadonlyMap<string, ErrorKind> = new Map<string, ErrorKind>([
  ['api_error', 'server'],
  // Anthropic's own 504: the upstream gave up, not this attempt's timeout.
  ['timeout_error', 'server'],
  ['invalid_request_error', 'invalid_request'],
])

/**
 * Message forms of an `invalid_request_error` the type cannot tell apart:
 * a prompt longer than the window ("prompt is too long: 208310 tokens >
 * 200000 maximum", "input length and `max_tokens` exceed context limit").
 */
const contextWindowText = /prompt is too long|exceed context limit|context window/i

/** "Your credit balance is too low to access the Anthropic API." — a 400 that no retry fixes. */
const quotaText = /credit balance is too low/i

/** The `anthropic-ratelimit-<limit>-{remaining,reset}` headers' limits, as the API documents them. */
const rateLimits: readonly string[] = [
  'requests',
  'tokens',
  'input-tokens',
  'output-tokens',
  'priority-input-tokens',
  'priority-output-tokens',
]

/**
 * What an Anthropic error body says beyond its HTTP status, for the
 * classifier: structured fields first (`error.type`: `rate_limit_error`,
 * `overloaded_error`, `api_error`, `authentication_error`,
 * `permission_error`, `not_found_error`, `request_too_large`,
 * `billing_error`; the broad `api_error`, `timeout_error` and
 * `invalid_request_error` only inside a 200), then the message text of an `invalid_request_error`
 * (a prompt too long → `context_window`, a credit balance too low →
 * `quota`), then the status by provider-kit's one table.
 *
 * A rate limit without a `retry-after` header (which, when present, wins)
 * waits until the `anthropic-ratelimit-*-reset` time of every limit whose
 * `remaining` is `0` — the latest of them, since all must have reset.
 */
export function readAnthropicError(
  status: number,
  body: unknown,
  response?: ErrorContext,
): ErrorDetails {
  const error = errorObjectOf(body)
  const message =
    typeof error?.message === 'string' && error.message !== '' ? error.message : undefined
  const kind = kindOf(status, typeof error?.type === 'string' ? error.type : undefined, message)
  const retryAfterMs =
    kind === 'rate_limit' && response !== undefined ? resetWait(response) : undefined
  const details: { -readonly [K in keyof ErrorDetails]: ErrorDetails[K] } = {}
  if (kind !== undefined) details.kind = kind
  if (message !== undefined) {
    details.message =
      message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message
  }
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs
  return details
}

/**
 * The typed error of an `event: error` inside a 200 stream (`overloaded_error`,
 * `api_error`), classified by its `type` as the HTTP error would be; one
 * that names no known type is kind `server`: the upstream failed while answering.
 */
export function createAnthropicInBandError(body: unknown): UnderstudyError {
  const details = readAnthropicError(200, body)
  const kind = details.kind ?? 'server'
  const said = details.message === undefined ? '' : `: ${details.message}`
  return new UnderstudyError({
    kind,
    message: `the upstream sent an error inside a 200 answer (${kind})${said}`,
  })
}

/** Whether a parsed 200 body or stream event is an error: `{ "type": "error", "error": … }`. */
export function isAnthropicErrorBody(body: unknown): boolean {
  return isRecord(body) && (body.type === 'error' || isRecord(body.error))
}

type Json = Readonly<Record<string, unknown>>

function errorObjectOf(body: unknown): Json | undefined {
  if (!isRecord(body)) return undefined
  if (isRecord(body.error)) return body.error
  if (typeof body.error === 'string') return { message: body.error }
  return typeof body.message === 'string' ? body : undefined
}

function kindOf(
  status: number,
  type: string | undefined,
  message: string | undefined,
): ErrorKind | undefined {
  const named = type === undefined ? undefined : typeKinds.get(type)
  if (named !== undefined) return named
  if (message !== undefined && status < 500) {
    if (contextWindowText.test(message)) return 'context_window'
    if (quotaText.test(message)) return 'quota'
  }
  if (status >= 400) return kindFromStatus(status)
  return type === undefined ? undefined : broadTypeKinds.get(type)
}

/** The wait until every exhausted limit resets, in ms from `response.now`; `undefined` when none says. */
function resetWait(response: ErrorContext): number | undefined {
  let latest: number | undefined
  for (const limit of rateLimits) {
    if (header(response, `anthropic-ratelimit-${limit}-remaining`)?.trim() !== '0') continue
    const reset = header(response, `anthropic-ratelimit-${limit}-reset`)
    const at = reset === undefined ? Number.NaN : Date.parse(reset)
    if (Number.isFinite(at) && (latest === undefined || at > latest)) latest = at
  }
  return latest === undefined ? undefined : Math.max(0, latest - response.now)
}

function header(response: ErrorContext, name: string): string | undefined {
  const value = response.headers[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value[0]
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
