import { type ErrorKind, UnderstudyError } from '@understudy/core'
import { type ErrorDetails, kindFromStatus, parseDuration } from '@understudy/provider-kit'

/**
 * The longest provider message kept, in characters: enough for every
 * recorded body, short enough that a proxy's HTML page cannot bloat an error.
 */
const maxMessageLength = 1000

/**
 * Google's `error.status` (a `google.rpc.Code` name) where it names a kind
 * on its own. `RESOURCE_EXHAUSTED` and `INVALID_ARGUMENT` need their
 * details and are read apart; the rest fall to the HTTP status.
 */
const statusKinds: ReadonlyMap<string, ErrorKind> = new Map([
  ['UNAVAILABLE', 'overloaded'],
  ['INTERNAL', 'server'],
  // DESIGN.md's table has 504 as `server`, and so is Google's deadline.
  ['DEADLINE_EXCEEDED', 'server'],
  ['PERMISSION_DENIED', 'auth'],
  ['UNAUTHENTICATED', 'auth'],
  ['NOT_FOUND', 'not_found'],
])

/**
 * `google.rpc.ErrorInfo` reasons that say the key is the problem, whatever
 * the status: Google answers a key that is not valid with a 400
 * `INVALID_ARGUMENT` (`API_KEY_INVALID`), which as `invalid_request` would
 * stop the chain where another key could answer.
 */
const authReasons: ReadonlySet<string> = new Set([
  'API_KEY_INVALID',
  'API_KEY_SERVICE_BLOCKED',
  'API_KEY_HTTP_REFERRER_BLOCKED',
  'API_KEY_IP_ADDRESS_BLOCKED',
])

/** The token-count message of a prompt too long for the model (error-400-input-token-count.json). */
const contextWindowText = /input token count .* exceeds the maximum number of tokens/i

/** A quota that only a new day (or a plan) brings back: `GenerateRequestsPerDayPerProjectPerModel-FreeTier`. */
const dailyQuota = /PerDay/i

type Json = Readonly<Record<string, unknown>>

/**
 * What a Gemini error body (`{ error: { code, message, status, details } }`)
 * says beyond its HTTP status, for the classifier. Google's structured
 * fields decide first: an `ErrorInfo` reason naming the key (`auth`), then
 * `error.status`; the message text only tells a prompt too long for the
 * model (`context_window`) from other `INVALID_ARGUMENT`s; then the HTTP
 * status, as provider-kit's one table reads it.
 *
 * `RESOURCE_EXHAUSTED` (429) is `rate_limit` or `quota`, from the recorded
 * bodies: a `QuotaFailure` whose `quotaId` is a per-day quota
 * (`GenerateRequestsPerDayPerProjectPerModel-FreeTier`) is `quota` — no retry
 * within a call brings it back — as is a body with neither `QuotaFailure`
 * nor `RetryInfo` (only "check your plan and billing details", the answer
 * for a key with no quota at all); a per-minute quota, or any body with a
 * `RetryInfo`, is `rate_limit`. `RetryInfo.retryDelay` (`"36s"`,
 * `"34.4s"`) is the wait, for either kind.
 *
 * An in-band error (a stream that ends in `{ error: … }` inside a 200) is
 * read the same way, its `error.code` standing for the status.
 */
export function readGeminiError(status: number, body: unknown): ErrorDetails {
  const error = errorObjectOf(body)
  const details: { -readonly [K in keyof ErrorDetails]: ErrorDetails[K] } = {}
  if (error === undefined) {
    if (status >= 400) details.kind = kindFromStatus(status)
    return details
  }
  const message = messageOf(error)
  const infos = detailsOf(error)
  const retryDelay = retryDelayOf(infos)
  const kind = kindOf(effectiveStatus(status, error), error, infos, message, retryDelay)
  if (kind !== undefined) details.kind = kind
  if (message !== undefined) details.message = message
  if (retryDelay !== undefined) details.retryAfterMs = retryDelay
  return details
}

/** Whether a parsed 200 body, or one stream event, is an error rather than an answer. */
export function isGeminiErrorBody(body: unknown): boolean {
  return errorObjectOf(body) !== undefined
}

/**
 * The typed error for an error that arrived inside a 200 (the last event
 * of a stream), classified like an HTTP error of the code it names; one that
 * names nothing is kind `server`: the upstream failed while answering.
 */
export function createGeminiInBandError(body: unknown): UnderstudyError {
  const details = readGeminiError(200, body)
  const kind = details.kind ?? 'server'
  const said = details.message === undefined ? '' : `: ${details.message}`
  return new UnderstudyError({
    kind,
    message: `the upstream sent an error inside a 200 answer (${kind})${said}`,
    ...(details.retryAfterMs !== undefined && { retryAfterMs: details.retryAfterMs }),
  })
}

/** `body.error`, also inside the one-element array a non-SSE stream answers with. */
function errorObjectOf(body: unknown): Json | undefined {
  const value = Array.isArray(body) ? body[body.length - 1] : body
  if (!isRecord(value)) return undefined
  return isRecord(value.error) ? value.error : undefined
}

function messageOf(error: Json): string | undefined {
  const message = error.message
  if (typeof message !== 'string' || message === '') return undefined
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message
}

function detailsOf(error: Json): readonly Json[] {
  const details = error.details
  return Array.isArray(details) ? details.filter(isRecord) : []
}

/** The detail of type `google.rpc.<name>`, whatever its type URL's host. */
function detailOf(infos: readonly Json[], name: string): Json | undefined {
  return infos.find(
    (info) => typeof info['@type'] === 'string' && info['@type'].endsWith(`google.rpc.${name}`),
  )
}

function retryDelayOf(infos: readonly Json[]): number | undefined {
  const delay = detailOf(infos, 'RetryInfo')?.retryDelay
  return typeof delay === 'string' ? parseDuration(delay) : undefined
}

/** The HTTP status, or for an error inside a 2xx the status its `code` names. */
function effectiveStatus(status: number, error: Json): number {
  if (status >= 300) return status
  const code = error.code
  return typeof code === 'number' && code >= 400 && code <= 599 ? code : status
}

function kindOf(
  status: number,
  error: Json,
  infos: readonly Json[],
  message: string | undefined,
  retryDelay: number | undefined,
): ErrorKind | undefined {
  const reason = detailOf(infos, 'ErrorInfo')?.reason
  if (typeof reason === 'string' && authReasons.has(reason)) return 'auth'
  const name = typeof error.status === 'string' ? error.status : undefined
  if (name === 'RESOURCE_EXHAUSTED' || (name === undefined && status === 429)) {
    return exhaustedKind(infos, retryDelay)
  }
  if (name === 'INVALID_ARGUMENT' || (name === undefined && status === 400)) {
    return message !== undefined && contextWindowText.test(message)
      ? 'context_window'
      : 'invalid_request'
  }
  const named = name === undefined ? undefined : statusKinds.get(name)
  if (named !== undefined) return named
  return status >= 400 ? kindFromStatus(status) : undefined
}

/** `quota` or `rate_limit` for a `RESOURCE_EXHAUSTED`, as {@link readGeminiError} decides. */
function exhaustedKind(infos: readonly Json[], retryDelay: number | undefined): ErrorKind {
  const failure = detailOf(infos, 'QuotaFailure')
  const violations = Array.isArray(failure?.violations) ? failure.violations : []
  const quotaIds = violations
    .map((violation) => (isRecord(violation) ? violation.quotaId : undefined))
    .filter((id): id is string => typeof id === 'string')
  if (quotaIds.some((id) => dailyQuota.test(id))) return 'quota'
  if (quotaIds.length > 0 || retryDelay !== undefined) return 'rate_limit'
  return 'quota'
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
