/**
 * Characters for random secrets in property tests. They share none with
 * `[redacted]`, so a secret can neither hide inside the placeholder nor
 * straddle it: an output that still holds such a secret leaked it. Some are
 * special to regexes and to `String.replace` (`$&`).
 */
export const secretCharacters: readonly string[] = Object.freeze([
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZbfghijklmnopqsuvwxyz0123456789-_.~+/=$&*?()|^',
])
