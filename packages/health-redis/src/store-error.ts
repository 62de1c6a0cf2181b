import { UnderstudyError } from '@understudy/core'

/**
 * What the store reports, once per outage, through the client's
 * `onHookError` (hook name `'health'`) when Redis stops answering: from then
 * on calls go on as if every target were healthy, until Redis answers again.
 * Kind `timeout` (no answer within `commandTimeoutMs`), `network` (the client
 * or the server refused the command: connection closed, Redis loading…) or
 * `unknown` (a reply the store cannot read). The message is the store's own,
 * never the client's, which may name a URL with a password; what the client
 * threw is the `cause`.
 */
export function storeError(
  kind: 'timeout' | 'network' | 'unknown',
  what: string,
  cause?: unknown,
): UnderstudyError {
  return new UnderstudyError({
    kind,
    message: `Redis health store: ${what}; every target is taken as healthy until Redis answers again`,
    cause,
  })
}
