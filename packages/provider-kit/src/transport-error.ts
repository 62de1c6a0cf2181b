import { type ErrorKind, isUnderstudyError, UnderstudyError } from '@understudy/core'
import type { SendRequestOptions } from './send-request.js'

/** A response body as JSON; one that does not parse is kind `server`. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UnderstudyError({
      kind: 'server',
      message: `the response body is not valid JSON (${text.length} characters)`,
      cause: error,
    })
  }
}

/** Network error codes of Node and undici, and what each means in a message. */
const networkCodes: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'connection closed before the whole body',
  ENOTFOUND: 'host not found (DNS)',
  EAI_AGAIN: 'host not found (DNS)',
  EAI_FAIL: 'host not found (DNS)',
  EAI_NONAME: 'host not found (DNS)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network unreachable',
}

/** undici's own timeouts (`headersTimeout`, `bodyTimeout` of the dispatcher): the upstream was too slow. */
const timeoutCodes: Readonly<Record<string, string>> = {
  UND_ERR_HEADERS_TIMEOUT: 'no response headers within the dispatcher headersTimeout',
  UND_ERR_BODY_TIMEOUT: 'the body stalled beyond the dispatcher bodyTimeout',
}

/** A transport failure as a typed error whose message holds no query string and no header. */
export function transportError(
  error: unknown,
  options: SendRequestOptions,
  method: string,
  phase: 'request' | 'body',
): UnderstudyError {
  if (isUnderstudyError(error)) return error
  const where = `${method} ${safeLocation(options.url)}`
  const during = phase === 'body' ? ' while reading the body' : ''
  const signal = options.signal
  // Whatever broke once the caller aborted, the reason is the abort.
  if (signal?.aborted === true) {
    return new UnderstudyError({
      kind: 'aborted',
      message: `${where}: aborted${during}`,
      cause: signal.reason,
    })
  }
  const code = errorCode(error)
  let kind: ErrorKind = 'unknown'
  let what = `failed${during} (${code ?? nameOf(error)})`
  const network = code === undefined ? undefined : networkCodes[code]
  const timeout = code === undefined ? undefined : timeoutCodes[code]
  if (network !== undefined) {
    kind = 'network'
    what = `${network}${during} (${code})`
  } else if (timeout !== undefined) {
    kind = 'timeout'
    what = `${timeout} (${code})`
  } else if (code === undefined && error instanceof TypeError && isFetchTransport(options)) {
    // fetch rejects with a bare TypeError for every network error (Fetch
    // standard); runtimes other than Node give no code to tell them apart.
    kind = 'network'
    what = `network error${during} (${error.message})`
  }
  return new UnderstudyError({ kind, message: `${where}: ${what}`, cause: error })
}

function isFetchTransport(options: SendRequestOptions): boolean {
  return options.fetch !== undefined || options.transport === 'fetch'
}

/** The error's `code`, or that of the first cause that has one (fetch wraps undici's error). */
function errorCode(error: unknown): string | undefined {
  let current = error
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = Reflect.get(current, 'code')
    if (typeof code === 'string' && code !== '') return code
    current = Reflect.get(current, 'cause')
  }
  return undefined
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

/** Origin and path of `url`: no user info, no query, no fragment. */
export function safeLocation(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return '(an invalid URL)'
  }
}
