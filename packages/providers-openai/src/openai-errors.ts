import { type ErrorKind, UnderstudyError } from '@understudy/core'
import { type ErrorDetails, kindFromStatus } from '@understudy/provider-kit'

/**
 * The longest provider message kept, in characters: enough for every
 * recorded body, short enough that a proxy's HTML page cannot bloat an error.
 */
const maxMessageLength = 1000

/** The `code` / `type` values (OpenAI's and Azure's `innererror.code`) that name a kind on their own. */
const codeKinds: ReadonlyMap<string, ErrorKind> = new Map([
  ['insufficient_quota', 'quota'],
  ['rate_limit_exceeded', 'rate_limit'],
  ['context_length_exceeded', 'context_window'],
  ['model_not_found', 'not_found'],
  // Azure: a deployment name nobody created.
  ['DeploymentNotFound', 'not_found'],
  ['invalid_api_key', 'auth'],
  // Azure's content filter (`code: content_filter`, `innererror.code: ResponsibleAIPolicyViolation`).
  ['content_filter', 'content_policy'],
  ['ResponsibleAIPolicyViolation', 'content_policy'],
  ['unsupported_value', 'invalid_request'],
  ['unsupported_parameter', 'invalid_request'],
])

/** OpenAI's broad error `type`s: they decide only when no status does (an error inside a 200). */
const typeKinds: ReadonlyMap<string, ErrorKind> = new Map([
  ['server_error', 'server'],
  ['invalid_request_error', 'invalid_request'],
])

/** Message forms of a prompt too long for the model, from OpenAI and the compatible servers in `fixtures/other`. */
const contextWindowText =
  /maximum context length|context length exceeded|reduce the length of the messages|exceeds the context window/i

/** Message forms of exhausted credit, which no retry fixes. */
const quotaText = /exceeded your current quota|insufficient credits|credit balance/i

const overloadedText = /overloaded/i

/**
 * What an OpenAI-dialect error body says beyond its HTTP status, for the
 * classifier: the kind, the provider's message and a wait the message asks
 * for. Structured fields decide first — the `error.code` / `error.type`
 * values and Azure's `innererror.code` that name a kind — then the message
 * text, only for what a status cannot tell (the context-window messages of
 * OpenRouter, DeepSeek, vLLM, SGLang that come as a plain 400; OpenAI's 503
 * "model is currently overloaded"), then the status, as provider-kit's one
 * table (`kindFromStatus`) reads it: the dialect has no status table of its own.
 *
 * Reads OpenAI's `{ error: { message, type, code } }`, Azure's string codes
 * (`"401"`, `"429"`, `DeploymentNotFound`), OpenRouter's numeric `code` and
 * `metadata.raw`, and vLLM's and Mistral's top-level `{ object: 'error' }`.
 * In a 200 (an in-band error) a numeric `code` or `status_code` stands for
 * the status. `kind` is left out when nothing in the body or status decides
 * it (an in-band error that names no status, no code and no `type`).
 */
export function readOpenAIError(status: number, body: unknown): ErrorDetails {
  const error = errorObjectOf(body)
  const message = error === undefined ? undefined : messageOf(error)
  const kind = kindOf(effectiveStatus(status, error), error, message)
  const retryAfterMs = kind === 'rate_limit' && message !== undefined ? waitIn(message) : undefined
  // Fields set one by one: conditional spreads cost about 0.6 µs an error in V8.
  const details: { -readonly [K in keyof ErrorDetails]: ErrorDetails[K] } = {}
  if (kind !== undefined) details.kind = kind
  if (message !== undefined) details.message = message
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs
  return details
}

/**
 * Whether a parsed 200 body, or one stream chunk, is an error rather than
 * an answer: OpenAI-compatible servers send `{ "error": … }` frames inside a
 * 200 (SGLang, OpenRouter, Groq's `event: error`).
 */
export function isOpenAIErrorBody(body: unknown): boolean {
  if (!isRecord(body)) return false
  return isRecord(body.error) || typeof body.error === 'string'
}

/**
 * The typed error for an error that arrived inside a 200 (an SSE frame or a
 * body), classified like an HTTP error of the status it names. One that
 * names nothing is kind `server`: the upstream failed while answering.
 */
export function createOpenAIInBandError(body: unknown): UnderstudyError {
  const details = readOpenAIError(200, body)
  const kind = details.kind ?? 'server'
  const said = details.message === undefined ? '' : `: ${details.message}`
  return new UnderstudyError({
    kind,
    message: `the upstream sent an error inside a 200 answer (${kind})${said}`,
    ...(details.retryAfterMs !== undefined && { retryAfterMs: details.retryAfterMs }),
  })
}

type Json = Readonly<Record<string, unknown>>

/** The object holding `message`/`code`: `body.error`, or the body itself for vLLM's and Mistral's envelope. */
function errorObjectOf(body: unknown): Json | undefined {
  // Some compatible servers wrap the body in a one-element array.
  const value = Array.isArray(body) ? body[0] : body
  if (!isRecord(value)) return undefined
  if (isRecord(value.error)) return value.error
  if (typeof value.error === 'string') return { message: value.error }
  if (value.object === 'error' || typeof value.message === 'string') return value
  return undefined
}

function messageOf(error: Json): string | undefined {
  const message = error.message
  if (typeof message !== 'string' || message === '') return undefined
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message
}

/** The HTTP status, or for an error inside a 2xx the status its body names. */
function effectiveStatus(status: number, error: Json | undefined): number {
  if (status >= 300 || error === undefined) return status
  for (const value of [error.status_code, error.status, error.code]) {
    const named = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value
    if (typeof named === 'number' && named >= 400 && named <= 599) return named
  }
  return status
}

function kindOf(
  status: number,
  error: Json | undefined,
  message: string | undefined,
): ErrorKind | undefined {
  const inner = error !== undefined && isRecord(error.innererror) ? error.innererror : undefined
  for (const code of [inner?.code, error?.code, error?.type]) {
    const kind = typeof code === 'string' ? codeKinds.get(code) : undefined
    if (kind !== undefined) return kind
  }
  // OpenRouter relays the upstream's own body in `metadata.raw`.
  const metadata = error !== undefined && isRecord(error.metadata) ? error.metadata : undefined
  const text = `${message ?? ''}\n${typeof metadata?.raw === 'string' ? metadata.raw : ''}`
  // A context-window error comes as a plain 400 from most compatible servers: only the text tells.
  if (status < 500 && contextWindowText.test(text)) return 'context_window'
  if (quotaText.test(text)) return 'quota'
  if (status >= 500 && overloadedText.test(text)) return 'overloaded'
  // The status means what provider-kit's one table says (402 `quota` included); the broad
  // `type` decides only for an in-band error whose body names no status.
  if (status >= 400) return kindFromStatus(status)
  return typeof error?.type === 'string' ? typeKinds.get(error.type) : undefined
}

/** Go-style duration pieces in OpenAI's messages: `20s`, `1.5s`, `120ms`, `6m0s`, `1h2m3s`. */
const durationPiece = /(\d+(?:\.\d+)?)(ms|h|m|s)/g
const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * A wait a rate-limit message asks for: Azure's "Please retry after 86400
 * seconds" / "Try again in 50 seconds", OpenAI's "Please try again in 1.5s",
 * "in 120ms" or "in 6m0s". Headers, when present, are read by the transport.
 */
function waitIn(message: string): number | undefined {
  const match =
    /(?:retry after|try again in)\s+(?:(\d+(?:\.\d+)?)\s*seconds?\b|((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)\b)/i.exec(
      message,
    )
  if (match === null) return undefined
  let ms = match[1] === undefined ? 0 : Number(match[1]) * 1000
  for (const [, amount, unit] of (match[2] ?? '').toLowerCase().matchAll(durationPiece)) {
    ms += Number(amount) * (unitMs[unit ?? ''] ?? 0)
  }
  // Rounded up, without the float noise of `1.1 * 1000` adding a ms.
  return Math.ceil(Number(ms.toFixed(6)))
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
