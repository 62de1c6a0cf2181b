import type { ToolCall } from './chat-request.js'
import type { Usage } from './chat-response.js'
import { kinds } from './kinds.js'
/**
 * Why a call, or one attempt of it, failed. Callers branch on `kind`, never on
 * `instanceof` or message text.
 */
export type ErrorKind =
  | 'rate_limit'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'network'
  | 'quota'
  | 'auth'
  | 'not_found'
  | 'context_window'
  | 'content_policy'
  | 'invalid_request'
  | 'unsupported'
  | 'empty'
  | 'incomplete'
  | 'stream_interrupted'
  | 'deadline'
  | 'aborted'
  | 'unknown'
  | 'config'
  | 'all_failed'

/** Every {@link ErrorKind}, in the order of DESIGN.md's policy table. */
export const errorKinds: readonly ErrorKind[] = Object.freeze(Object.keys(kinds) as ErrorKind[])

/** What an attempt record says of the error that ended it: data only, no secrets. */
export interface AttemptError {
  readonly kind: ErrorKind
  readonly status?: number
  readonly retryAfterMs?: number
  readonly message: string
}

/** One attempt of one target, as the trace records it. No key, no header, no body. */
export interface Attempt {
  /** The target as `"provider/model"`. */
  readonly target: string
  readonly provider: string
  /** The model, without the provider prefix. */
  readonly model: string
  /**
   * `'ok'` answered, `'error'` failed (see `error`), `'skipped'` was cooling
   * down and not called, `'hedged'` lost a hedge and was cancelled.
   */
  readonly outcome: 'ok' | 'error' | 'skipped' | 'hedged'
  readonly error?: AttemptError
  /** The HTTP status of the answer, when there was one. */
  readonly status?: number
  /** 0 for a target's first attempt in this call, 1 for its first retry, … */
  readonly retry: number
  /** Wall time of the attempt in ms; 0 for a skipped target. */
  readonly durationMs: number
  /**
   * The attempt's own error, for debugging: its `cause` is what the provider
   * threw (a `TypeError` in an adapter, with its stack). Non-enumerable, so
   * `JSON.stringify` and spreads leave it out; present on failed attempts of
   * the client's calls.
   */
  readonly cause?: UnderstudyError
}

/**
 * What a stream had delivered when it failed after its first content:
 * exactly the text, reasoning and tool calls the caller received, and the
 * usage as far as the provider reported it.
 */
export interface PartialOutput {
  readonly text: string
  readonly reasoning?: string
  /** Tool calls as far as they were delivered; `arguments` may be cut short. */
  readonly toolCalls: readonly ToolCall[]
  readonly usage: Usage
}

/** The fields an {@link UnderstudyError} is built from. */
export interface UnderstudyErrorInit {
  readonly kind: ErrorKind
  readonly message: string
  readonly provider?: string | undefined
  readonly model?: string | undefined
  readonly status?: number | undefined
  /** How long the upstream asked us to wait, in ms. */
  readonly retryAfterMs?: number | undefined
  /** The upstream's request id, for support tickets. */
  readonly requestId?: string | undefined
  readonly attempts?: readonly Attempt[] | undefined
  /** A stream's delivered output, when it failed after its first content. */
  readonly partial?: PartialOutput | undefined
  readonly cause?: unknown
}

const brand = Symbol.for('understudy.error')

/**
 * The one error class of Understudy: every failure is one of these, with a
 * `kind` that says why. Providers throw it for a failed attempt; a call
 * rejects with it, carrying every attempt made.
 *
 * Its message never holds a key, header, query string or body, and
 * `JSON.stringify(error)` gives only the fields below.
 */
export class UnderstudyError extends Error {
  override readonly name: string = 'UnderstudyError'
  readonly kind: ErrorKind
  readonly provider: string | undefined
  readonly model: string | undefined
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  readonly requestId: string | undefined
  /** Every attempt of the call, in order; empty for the error of one attempt. */
  readonly attempts: readonly Attempt[]
  /**
   * What the caller had received when a stream failed after its first
   * content (kinds `stream_interrupted`, `aborted`, `deadline`); otherwise
   * undefined.
   */
  readonly partial: PartialOutput | undefined

  constructor(init: UnderstudyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause })
    this.kind = init.kind
    this.provider = init.provider
    this.model = init.model
    this.status = init.status
    this.retryAfterMs = init.retryAfterMs
    this.requestId = init.requestId
    // A fresh empty list, not a shared one: two calls' errors share nothing (rule 1).
    this.attempts = init.attempts ?? Object.freeze([])
    this.partial = init.partial
  }

  /** The error as plain data: kind, message and the fields above, never `cause`. */
  toJSON(): UnderstudyErrorJSON {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      provider: this.provider,
      model: this.model,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      requestId: this.requestId,
      attempts: this.attempts,
      ...(this.partial !== undefined && { partial: this.partial }),
    }
  }
}
Object.defineProperty(UnderstudyError.prototype, brand, { value: true })

/** What `JSON.stringify` gives for an {@link UnderstudyError}. */
export interface UnderstudyErrorJSON {
  readonly name: string
  readonly kind: ErrorKind
  readonly message: string
  readonly provider: string | undefined
  readonly model: string | undefined
  readonly status: number | undefined
  readonly retryAfterMs: number | undefined
  readonly requestId: string | undefined
  readonly attempts: readonly Attempt[]
  readonly partial?: PartialOutput
}

/**
 * Bad options, an unknown provider prefix or a malformed target, found before
 * any I/O. `path` names the option (`fallbacks[1].model`); the message says
 * what was expected and what was given, never a secret.
 */
export class ConfigError extends UnderstudyError {
  override readonly name: string = 'ConfigError'
  override readonly kind: 'config' = 'config'
  /** Where the problem is, as written in code: `fallbacks[1].model`, `health.cooldownMs`. */
  readonly path: string

  constructor(init: { readonly path: string; readonly message: string }) {
    super({
      kind: 'config',
      message: init.path === '' ? init.message : `${init.path}: ${init.message}`,
    })
    this.path = init.path
  }

  override toJSON(): UnderstudyErrorJSON & { readonly path: string } {
    return { ...super.toJSON(), path: this.path }
  }
}

/**
 * Tells whether `value` is an {@link UnderstudyError} (of `kind`, when given).
 * Works across duplicated copies of this package, where `instanceof` does not.
 */
export function isUnderstudyError(value: unknown, kind?: ErrorKind): value is UnderstudyError {
  if (typeof value !== 'object' || value === null) return false
  if (Reflect.get(value, brand) !== true) return false
  return kind === undefined || Reflect.get(value, 'kind') === kind
}
