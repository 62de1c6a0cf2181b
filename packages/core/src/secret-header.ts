/** Header names that carry a credential whatever words they hold, in lower case. */
const secretHeaderNames: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'cookie',
  'set-cookie',
])

/** What marks a credential inside one word of a header's name: `apikey`, `x-auth-token`, `sessionid`. */
const secretWord = /auth|key|token|secret|cookie|signature|session/

/**
 * Whether a header's value is a credential, whatever the case of its name:
 * `authorization`, `proxy-authorization`, `x-api-key`, `api-key`,
 * `x-goog-api-key`, `ocp-apim-subscription-key`, `cookie`, `set-cookie`, and
 * any name with a word (split at `-`, `_`, `.`) that holds `auth`, `key`,
 * `token`, `secret`, `cookie`, `signature` or `session` (`x-auth-token`,
 * `x-apikey`, `x-session-id`, `x-amz-security-token`, `idempotency-key`).
 *
 * A word that is just `tokens` is not one: it counts model tokens
 * (`x-ratelimit-remaining-tokens`, `anthropic-ratelimit-input-tokens-limit`).
 *
 * Core hides the values of these headers in every error of a call; a custom
 * provider uses it to keep them out of its own messages and logs.
 *
 * @example
 * isSecretHeader('X-Api-Key') // true
 * isSecretHeader('x-ratelimit-remaining-tokens') // false
 */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase()
  if (secretHeaderNames.has(lower)) return true
  // Words, not the whole name: a count (`…-tokens`) must not make its neighbours a credential.
  for (const word of lower.split(/[^a-z0-9]+/)) {
    if (word !== 'tokens' && secretWord.test(word)) return true
  }
  return false
}
