import type { CallOptions } from './options.js'

/**
 * Tells, fast, whether call options are plainly valid: every field of a
 * common shape and right type. `true` means the zod schema accepts them too
 * (a property test holds the two together); `false` only means "let the
 * schema decide", which then accepts them or names the problem.
 *
 * Why not the schema every time: parsing a call's options with zod costs
 * 2–20 µs (URL checks dominate), more than the whole engine's work on a call.
 * The schema stays the one authority on what is valid and on every message.
 *
 * `knownURLs` holds base URLs the schema has already accepted.
 */
export function isPlainlyValid(options: CallOptions, knownURLs: ReadonlySet<string>): boolean {
  if (!isPlainObject(options)) return false
  for (const key in options) {
    const value: unknown = options[key as keyof CallOptions]
    if (value === undefined) continue
    switch (key) {
      case 'fallbacks':
      case 'contextWindowFallbacks':
      case 'contentPolicyFallbacks':
        if (!isChain(value, knownURLs)) return false
        break
      case 'retries':
        if (!isRetries(value)) return false
        break
      case 'timeoutMs':
      case 'attemptTimeoutMs':
      case 'firstTokenTimeoutMs':
      case 'idleTimeoutMs':
        if (!isTimeout(value)) return false
        break
      case 'hedgeAfterMs':
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return false
        break
      case 'midStream':
        if (value !== 'fail' && value !== 'continue') return false
        break
      case 'signal':
        if (!isSignal(value)) return false
        break
      case 'hooks':
        if (!isHooks(value)) return false
        break
      case 'backoff':
        if (!isBackoff(value)) return false
        break
      case 'apiKey':
        if (!isKey(value)) return false
        break
      case 'baseURL':
        if (typeof value !== 'string' || !knownURLs.has(value)) return false
        break
      case 'headers':
        if (!isHeaders(value)) return false
        break
      default:
        // `policy` and anything unknown: the schema decides.
        return false
    }
  }
  return true
}

/** Every base URL in `options` (call and targets), to remember once the schema has accepted them. */
export function baseURLsOf(options: CallOptions): string[] {
  const urls: string[] = []
  if (typeof options.baseURL === 'string') urls.push(options.baseURL)
  for (const chain of [
    options.fallbacks,
    options.contextWindowFallbacks,
    options.contentPolicyFallbacks,
  ]) {
    for (const target of chain ?? []) {
      if (typeof target === 'object' && typeof target.baseURL === 'string')
        urls.push(target.baseURL)
    }
  }
  return urls
}

const targetPattern = /^[^/\s]+\/\S/

function isChain(value: unknown, knownURLs: ReadonlySet<string>): boolean {
  if (!Array.isArray(value)) return false
  for (const target of value) {
    if (typeof target === 'string') {
      if (!targetPattern.test(target)) return false
    } else if (!isTargetObject(target, knownURLs)) return false
  }
  return true
}

function isTargetObject(value: unknown, knownURLs: ReadonlySet<string>): boolean {
  if (!isPlainObject(value)) return false
  const target = value as Record<string, unknown>
  if (typeof target.model !== 'string' || !targetPattern.test(target.model)) return false
  for (const key in target) {
    const field = target[key]
    if (field === undefined) continue
    switch (key) {
      case 'model':
        break
      case 'apiKey':
        if (!isKey(field)) return false
        break
      case 'baseURL':
        if (typeof field !== 'string' || !knownURLs.has(field)) return false
        break
      case 'headers':
        if (!isHeaders(field)) return false
        break
      case 'retries':
        if (!isRetries(field)) return false
        break
      case 'attemptTimeoutMs':
        if (!isTimeout(field)) return false
        break
      default:
        // `params`, `unset` and anything unknown: the schema decides.
        return false
    }
  }
  return true
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

const isKey = (value: unknown): boolean => typeof value === 'string' && value.length > 0

const isRetries = (value: unknown): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

const isTimeout = (value: unknown): boolean => typeof value === 'number' && value > 0

function isHeaders(value: unknown): boolean {
  if (!isPlainObject(value)) return false
  for (const key in value) {
    if (typeof (value as Record<string, unknown>)[key] !== 'string') return false
  }
  return true
}

function isSignal(value: unknown): boolean {
  return value instanceof AbortSignal
}

const hookNames = new Set([
  'onAttempt',
  'onRetry',
  'onFallback',
  'onSuccess',
  'onFailure',
  'onHookError',
])

function isHooks(value: unknown): boolean {
  if (!isPlainObject(value)) return false
  for (const key in value) {
    const hook = (value as Record<string, unknown>)[key]
    if (!hookNames.has(key) || (hook !== undefined && typeof hook !== 'function')) return false
  }
  return true
}

function isBackoff(value: unknown): boolean {
  if (!isPlainObject(value)) return false
  for (const key in value) {
    const delay = (value as Record<string, unknown>)[key]
    if (key !== 'initialDelayMs' && key !== 'maxDelayMs') return false
    if (delay !== undefined && (typeof delay !== 'number' || !(delay >= 0) || delay === Infinity))
      return false
  }
  return true
}
