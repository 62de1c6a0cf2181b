import { isSecretHeader } from '@understudy/core'

/** What stands in for a secret, as core's `redactSecrets` writes it. */
const redacted = '[redacted]'

/**
 * A copy of `headers` with the value of every credential header (see
 * core's `isSecretHeader`: `authorization`, `x-api-key`, `api-key`,
 * `x-goog-api-key`, `cookie`, `proxy-authorization`, …) replaced by
 * `[redacted]`, whatever the case of its name. Other headers are kept as
 * they are; `headers` itself is not written.
 *
 * @example
 * redactHeaders({ Authorization: 'Bearer sk-1', 'content-type': 'application/json' })
 * // { Authorization: '[redacted]', 'content-type': 'application/json' }
 */
export function redactHeaders<Value extends string | readonly string[]>(
  headers: Readonly<Record<string, Value>>,
): Record<string, Value | string> {
  const out: Record<string, Value | string> = {}
  for (const name of Object.keys(headers)) {
    const value = headers[name] as Value
    out[name] = isSecretHeader(name) ? redacted : value
  }
  return out
}

/**
 * Whether a query parameter carries a credential. Its name is compared
 * without case, `-` or `_`: `key`, `api_key`, `x-goog-api-key`,
 * `access_token`, `client_secret`, `sig`, `signature`, `password`, `code`…
 * (`max_tokens` is not one: a plural is a count).
 */
export function isSecretParam(name: string): boolean {
  const plain = safeDecode(name)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
  return (
    plain === 'code' ||
    /(?:key|token|secret|password|passwd|pwd|sig|signature|auth|authorization|credential|credentials|session|sessionid|jwt)$/.test(
      plain,
    )
  )
}

/**
 * `url` with the value of every secret-looking query parameter (see
 * {@link isSecretParam}: `?key=`, `api_key=`, `access_token=`, `sig=`…) and
 * any user info (`https://user:pass@host`) replaced by `[redacted]`.
 * Everything else is kept byte for byte, so it also works on text that is
 * not a valid URL; redacting twice changes nothing more.
 *
 * @example
 * redactURL('https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIza1&alt=sse')
 * // 'https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=[redacted]&alt=sse'
 */
export function redactURL(url: string): string {
  const hashAt = url.indexOf('#')
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt)
  const fragment = hashAt === -1 ? '' : url.slice(hashAt)
  const queryAt = beforeHash.indexOf('?')
  const head = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt)
  const query = queryAt === -1 ? undefined : beforeHash.slice(queryAt + 1)
  // User info sits between `scheme://` and the first `@` of the authority.
  const withoutUser = head.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${redacted}@`)
  if (query === undefined) return withoutUser + fragment
  const pairs = query.split('&').map((pair) => {
    const equalsAt = pair.indexOf('=')
    if (equalsAt === -1) return pair
    const name = pair.slice(0, equalsAt)
    return isSecretParam(name) ? `${name}=${redacted}` : pair
  })
  return `${withoutUser}?${pairs.join('&')}${fragment}`
}

/**
 * `text` with every `name=value` whose name looks secret (see
 * {@link isSecretParam}) given a `[redacted]` value: for messages that may
 * quote a URL (`…?key=AIza…`) without being one.
 */
export function redactSecretParams(text: string): string {
  // Most messages hold no `=` at all: the regex below backtracks over every word to find that out.
  if (!text.includes('=')) return text
  return text.replace(/([A-Za-z0-9_.~%-]+)=([^&\s"'<>#]+)/g, (match, name: string) =>
    isSecretParam(name) ? `${name}=${redacted}` : match,
  )
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
