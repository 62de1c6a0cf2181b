import {
  APICallError,
  EmptyResponseBodyError,
  InvalidPromptError,
  LoadAPIKeyError,
  UnsupportedFunctionalityError,
} from '@ai-sdk/provider'
import {
  type ErrorKind,
  type ErrorOrigin,
  isUnderstudyError,
  toUnderstudyError,
  UnderstudyError,
} from '@understudy/core'
import { type ErrorDetails, errorFromResponse } from '@understudy/provider-kit'

/**
 * The error codes of the vendors' error bodies (`error.code`, `error.type`,
 * Gemini's `error.status`) that say more than the HTTP status: the kinds
 * Understudy's own providers read from the same fields.
 */
const codeKinds: ReadonlyMap<string, ErrorKind> = new Map<string, ErrorKind>([
  ['insufficient_quota', 'quota'],
  ['billing_hard_limit_reached', 'quota'],
  ['context_length_exceeded', 'context_window'],
  ['content_filter', 'content_policy'],
  ['content_policy_violation', 'content_policy'],
  ['rate_limit_exceeded', 'rate_limit'],
  ['rate_limit_error', 'rate_limit'],
  ['RESOURCE_EXHAUSTED', 'rate_limit'],
  ['overloaded_error', 'overloaded'],
  ['UNAVAILABLE', 'overloaded'],
  ['model_not_found', 'not_found'],
  ['not_found_error', 'not_found'],
  ['authentication_error', 'auth'],
  ['permission_error', 'auth'],
  ['invalid_api_key', 'auth'],
  ['PERMISSION_DENIED', 'auth'],
  ['UNAUTHENTICATED', 'auth'],
])

/**
 * What an AI SDK model threw for one attempt, as Understudy's error of that
 * attempt. An `APICallError` is read from its structured fields:
 * `statusCode` through provider-kit's status table, the body's error code
 * (`insufficient_quota` → `quota`, `context_length_exceeded` →
 * `context_window`), `Retry-After` from `responseHeaders` through
 * `parseRetryAfter`; one without a status (the AI SDK's "cannot connect") is
 * `network` when the SDK calls it retryable. The SDK's other errors map by
 * their class (`LoadAPIKeyError` → `auth`, `UnsupportedFunctionalityError` and
 * `InvalidPromptError` → `unsupported`, `EmptyResponseBodyError` → `empty`);
 * anything else is `unknown`. Never read from message text alone.
 */
export function classifyAISDKError(
  error: unknown,
  origin: ErrorOrigin,
  now: number,
): UnderstudyError {
  if (isUnderstudyError(error)) return error
  const { provider, model } = origin
  if (APICallError.isInstance(error)) {
    if (error.statusCode === undefined) {
      return withCause(
        error,
        origin,
        error.isRetryable ? 'network' : 'unknown',
        `${provider}/${model}: ${error.isRetryable ? 'could not reach the upstream' : 'the call failed'}`,
      )
    }
    const classified = errorFromResponse({
      provider,
      model,
      status: error.statusCode,
      headers: error.responseHeaders ?? {},
      body: parseBody(error.responseBody),
      readError: readVendorError,
      now,
      secrets: [],
    })
    return new UnderstudyError({
      kind: classified.kind,
      message: classified.message,
      provider,
      model,
      status: classified.status,
      retryAfterMs: classified.retryAfterMs,
      requestId: classified.requestId,
      cause: error,
    })
  }
  if (LoadAPIKeyError.isInstance(error)) {
    return withCause(
      error,
      origin,
      'auth',
      `${provider}/${model}: the AI SDK provider has no API key`,
    )
  }
  if (UnsupportedFunctionalityError.isInstance(error) || InvalidPromptError.isInstance(error)) {
    return withCause(error, origin, 'unsupported', `${provider}/${model}: ${error.message}`)
  }
  if (EmptyResponseBodyError.isInstance(error)) {
    return withCause(error, origin, 'empty', `${provider}/${model}: the response had no body`)
  }
  // The AI SDK model holds its keys; none is known here to redact.
  return toUnderstudyError(error, origin, [])
}

function withCause(
  cause: unknown,
  origin: ErrorOrigin,
  kind: ErrorKind,
  message: string,
): UnderstudyError {
  return new UnderstudyError({
    kind,
    message,
    provider: origin.provider,
    model: origin.model,
    cause,
  })
}

/** The body as JSON when it is JSON, else its text (`''` when there was none). */
function parseBody(body: string | undefined): unknown {
  if (body === undefined || body === '') return ''
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

/** The vendor's error code and message from the usual body shapes: `{ error: { code, type, status, message } }`. */
function readVendorError(_status: number, body: unknown): ErrorDetails {
  const error = field(body, 'error')
  const holder = typeof error === 'object' && error !== null ? error : body
  const message = field(holder, 'message')
  for (const name of ['code', 'type', 'status']) {
    const code = field(holder, name)
    const kind = typeof code === 'string' ? codeKinds.get(code) : undefined
    if (kind !== undefined) {
      return { kind, ...(typeof message === 'string' && { message }) }
    }
  }
  return typeof message === 'string' ? { message } : {}
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, name) : undefined
}
