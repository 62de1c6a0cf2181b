import { redactSecrets, UnderstudyError } from '@understudy/core'
import { parseRetryAfter } from './parse-retry-after.js'
import type { ErrorContext, ErrorDetails } from './provider-spec.js'
import { redactSecretParams } from './redact.js'
import { kindFromStatus } from './status-kind.js'

/** An HTTP error response, as {@link errorFromResponse} reads it. */
export interface ErrorResponse {
  /** The provider id: `"openai"`. */
  readonly provider: string
  /** The model, without the provider prefix. */
  readonly model: string
  readonly status: number
  /** Response headers by lower-case name; a repeated header may be a list. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  /** The body: parsed JSON when it was JSON, else its text (`''` when there was none). */
  readonly body: unknown
  /**
   * What the provider's dialect reads from the body (a spec's `readError`).
   * Its `kind` wins over the status table; a `readError` that throws is ignored.
   */
  readonly readError?: (status: number, body: unknown, response: ErrorContext) => ErrorDetails
  /** Now, in epoch ms: where an HTTP-date `Retry-After` is measured from. */
  readonly now: number
  /** Every key the call knows: none of them appears in the error. */
  readonly secrets: readonly string[]
}

/** The longest provider message kept in an error's message, in characters. */
const maxMessageLength = 300

/** Response headers that carry the upstream's request id, most specific first. */
const requestIdHeaders: readonly string[] = [
  'x-request-id',
  'request-id',
  'apim-request-id',
  'x-ms-request-id',
  'x-goog-request-id',
  'x-amzn-requestid',
  'x-amz-request-id',
]

/**
 * The upstream's request id, for support tickets: `x-request-id` (OpenAI,
 * Groq), `request-id` (Anthropic), `apim-request-id` / `x-ms-request-id`
 * (Azure), `x-goog-request-id`, `x-amzn-requestid`. `undefined` when none is there.
 */
export function readRequestId(
  headers: Readonly<Record<string, string | readonly string[]>>,
): string | undefined {
  for (const name of requestIdHeaders) {
    const value = headerValue(headers, name)
    if (value !== undefined && value !== '') return value
  }
  return undefined
}

/**
 * The typed error of an HTTP error response. Its `kind` comes from the
 * body's structured fields first (`readError`: `insufficient_quota` →
 * `quota`, `context_length_exceeded` → `context_window`), else from the status
 * ({@link kindFromStatus}). `retryAfterMs` comes from the headers
 * (`retry-after-ms`, `retry-after` in seconds or as an HTTP date, via
 * {@link parseRetryAfter}), else from the body (Gemini's `RetryInfo`). `requestId`
 * comes from the headers ({@link readRequestId}).
 *
 * The message is `<provider>/<model> <status>: <the provider's message>`,
 * with every secret and every `key=`-like parameter redacted, cut at 300
 * characters. It never holds a header; the body is not kept.
 *
 * @example
 * const error = errorFromResponse({
 *   provider: 'openai', model: 'gpt-4o', status: 429,
 *   headers: { 'retry-after': '2' },
 *   body: { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } },
 *   now: Date.now(), secrets: [apiKey],
 * })
 * error.kind // 'rate_limit'; error.retryAfterMs // 2000
 */
export function errorFromResponse(response: ErrorResponse): UnderstudyError {
  const { provider, model, status, headers, body, secrets } = response
  const details = readDetails(response)
  const kind = details.kind ?? kindFromStatus(status)
  const fromHeaders = parseRetryAfter({ get: (name) => headerValue(headers, name) }, response.now)
  const retryAfterMs = fromHeaders ?? validWait(details.retryAfterMs)
  const said = details.message ?? messageOf(body)
  const clean = truncate(oneLine(redactSecretParams(redactSecrets(said, secrets))))
  const init = {
    kind,
    message: `${provider}/${model} ${status}: ${clean === '' ? 'no message' : clean}`,
    provider,
    model,
    status,
    retryAfterMs,
    requestId: readRequestId(headers),
  }
  // Built with its stack frames, under whatever `Error.stackTraceLimit` the
  // user's process has: setting that global to 0 around the build (as this
  // file once did) changes it for everyone. The frames cost about 7 µs an
  // error (bench/http-error.bench.ts, Node 20 on 2 busy cores: 10-14 µs here
  // against 2.5-3.9 µs with the limit at 0; a bare UnderstudyError 5.8-7.3 µs
  // against 0.8-1.2 µs), once per failed attempt, after its HTTP round trip.
  // Nothing cheaper keeps a real error: a frameless clone with its prototype
  // swapped skips core's constructor, and Object.create has no stack at all.
  return new UnderstudyError(init)
}

function readDetails(response: ErrorResponse): ErrorDetails {
  if (response.readError === undefined) return {}
  try {
    return (
      response.readError(response.status, response.body, {
        headers: response.headers,
        now: response.now,
      }) ?? {}
    )
  } catch {
    // A dialect that cannot read an odd body must not hide the HTTP error behind its own.
    return {}
  }
}

function validWait(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? Math.ceil(ms) : undefined
}

/**
 * The message of a body no dialect read: `error.message`, `message`,
 * `error` or `detail` when they are text; the text itself for a text body
 * (an HTML error page is named, not quoted).
 */
function messageOf(body: unknown): string {
  if (typeof body === 'string') {
    const text = body.trim()
    return /^<(?:!doctype|html|\?xml)/i.test(text) ? 'an HTML page instead of an error body' : text
  }
  if (typeof body !== 'object' || body === null) return ''
  const error = Reflect.get(body, 'error')
  if (typeof error === 'string') return error
  if (typeof error === 'object' && error !== null) {
    const inner = Reflect.get(error, 'message')
    if (typeof inner === 'string') return inner
  }
  for (const field of ['message', 'detail']) {
    const value = Reflect.get(body, field)
    if (typeof value === 'string') return value
  }
  return ''
}

function oneLine(text: string): string {
  // Already one line with single spaces (the usual message): nothing to replace.
  if (!/[^\S ]| {2}|^ | $/.test(text)) return text
  return text.replace(/\s+/g, ' ').trim()
}

function truncate(text: string): string {
  return text.length <= maxMessageLength ? text : `${text.slice(0, maxMessageLength - 1)}…`
}

function headerValue(
  headers: Readonly<Record<string, string | readonly string[]>>,
  name: string,
): string | undefined {
  const value = headers[name]
  if (value === undefined) return undefined
  return typeof value === 'string' ? value : value.join(', ')
}
