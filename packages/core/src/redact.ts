/** What stands in for a secret in any text Understudy shows. */
export const redacted = '[redacted]'

/**
 * `text` with every occurrence of each secret replaced by `[redacted]`.
 * Secrets shorter than 4 characters are left alone: they would blank out
 * ordinary words and no real key is that short.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(redacted)
  }
  return out
}
