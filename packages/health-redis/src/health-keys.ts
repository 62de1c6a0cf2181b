/** The two Redis keys that hold one target's health. */
export interface HealthKeys {
  /** A hash: the target's calls and failures in the current window and the one before. */
  readonly window: string
  /** A string: when the target's cooldown ends, in the client clock's ms; gone when it is not cooling. */
  readonly cooldown: string
}

/**
 * The Redis keys of the target core names `target` (its provider, model,
 * base URL and a hash of its key, joined by NUL; never the key itself).
 *
 * The target goes between `{` and `}`, so Redis Cluster puts both keys in
 * one hash slot and the record script may touch both. It is escaped so the
 * keys read well in `redis-cli` and stay distinct: `%` `|` `{` `}` become
 * `%25` `%7C` `%7B` `%7D`, then each NUL becomes `|`
 * (`understudy:health:{openai|gpt-4o||3f2a…}:cooldown`).
 */
export function healthKeys(prefix: string, target: string): HealthKeys {
  const tag = `${prefix}{${escapeTarget(target)}}`
  return { window: `${tag}:window`, cooldown: `${tag}:cooldown` }
}

function escapeTarget(target: string): string {
  return target.replace(needsEscape, (character) => escapes[character] as string)
}

/** `%`, `|`, `{`, `}` and NUL, the separator core puts between a target's parts. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what core separates a target's parts with.
const needsEscape = /[%|{}\u0000]/g

const escapes: Readonly<Record<string, string>> = {
  '%': '%25',
  '|': '%7C',
  '{': '%7B',
  '}': '%7D',
  '\u0000': '|',
}
