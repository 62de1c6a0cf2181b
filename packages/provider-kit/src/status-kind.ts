import type { ErrorKind } from '@understudy/core'

/**
 * The statuses whose kind is not their range's (DESIGN.md's policy table).
 * The one status → kind table of Understudy: `errorFromResponse` and every
 * dialect read it through {@link kindFromStatus}, so a status cannot mean
 * one kind here and another in a provider.
 */
const statusKinds: ReadonlyMap<number, ErrorKind> = new Map<number, ErrorKind>([
  [401, 'auth'],
  // Payment Required: out of credit (OpenRouter), which no retry fixes; litellm and the SDK peers read it so too.
  [402, 'quota'],
  [403, 'auth'],
  [404, 'not_found'],
  [408, 'timeout'],
  // OpenAI's and Anthropic's own SDKs retry a 409: a conflict with a concurrent request, not a fault of the request.
  [409, 'server'],
  [429, 'rate_limit'],
  [503, 'overloaded'],
  [529, 'overloaded'],
])

/**
 * The kind an HTTP error status means when the body says nothing more
 * (DESIGN.md's policy table): 401/403 `auth`, 402 `quota` (payment
 * required: out of credit), 404 `not_found`, 408 `timeout`, 409 `server`
 * (the vendors' SDKs retry a conflict), 429 `rate_limit`, 503/529
 * `overloaded`, other 5xx `server`, and 400/413/422 and every other 4xx
 * `invalid_request`. Anything below 400 is `unknown`: an error was not
 * expected there (an unfollowed redirect, an informational status).
 *
 * A provider's dialect (its `readError`) adds only what its body's
 * structured fields say and leaves the status to this table.
 *
 * @example
 * kindFromStatus(429) // 'rate_limit'
 * kindFromStatus(402) // 'quota'
 */
export function kindFromStatus(status: number): ErrorKind {
  const kind = statusKinds.get(status)
  if (kind !== undefined) return kind
  if (status >= 500 && status <= 599) return 'server'
  if (status >= 400 && status <= 499) return 'invalid_request'
  return 'unknown'
}
