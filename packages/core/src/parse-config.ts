import * as z from 'zod'
import { ConfigError } from './errors.js'

/** Option names whose values are never shown in an error: they may hold a key. */
const secretNames: ReadonlySet<string> = new Set(['apiKey', 'headers', 'baseURL'])

/**
 * Checks `value` against a zod `schema` and returns what the schema gives;
 * on failure throws a {@link ConfigError} (kind `config`) that names where the
 * first problem is, as code would write it (`fallbacks[1].model`,
 * `headers["x-tenant"]`, after `path` when given), what was expected and what
 * was received. An unknown key of a strict object is named with the keys
 * that object takes, and the one it was probably meant as ("did you mean
 * "baseURL"?" for `baseUrl`); in a union, the problem reported is the one of the
 * branch the value was meant for. Values under `apiKey`, `headers` or
 * `baseURL` are never shown: they may hold a secret.
 *
 * For a provider factory's or a tool's own options, so a typo fails before
 * any I/O the way `createClient`'s options do.
 *
 * @param path Where `value` sits, prefixed to the path of the problem: `'openai(options)'`. Default `''`.
 * @throws ConfigError
 * @example
 * const options = parseConfig(optionsSchema, given, 'myProvider(options)')
 * // ConfigError: myProvider(options).timeoutMs: expected number; received "10s"
 */
export function parseConfig<T>(schema: z.core.$ZodType<T>, value: unknown, path = ''): T {
  const result = z.safeParse(schema, value, { reportInput: true, error: expectedMessage })
  if (result.success) return result.data
  throw configErrorFromIssue(pickIssue(result.error.issues[0]), path)
}

type Issue = z.core.$ZodIssue

/**
 * The issue to report. In a union, the branch the value was meant for: the
 * first whose problem is past the value's own type (a nested path, or a
 * check other than type or literal), so `{ type: 'txt' }` is reported at
 * `type` rather than as "invalid input". When no branch was meant, the
 * union's own message.
 */
function pickIssue(issue: Issue | undefined): Issue {
  if (issue === undefined)
    return { code: 'custom', path: [], message: 'invalid value', input: undefined }
  if (issue.code !== 'invalid_union') return issue
  const meant = issue.errors.find((branch) =>
    branch.some(
      (inner) =>
        inner.path.length > 0 || (inner.code !== 'invalid_type' && inner.code !== 'invalid_value'),
    ),
  )
  const inner = meant?.[0]
  if (inner === undefined) return issue
  return pickIssue({ ...inner, path: [...issue.path, ...inner.path] } as Issue)
}

/**
 * Messages zod does not word as the rest: for an unknown key, the keys its
 * object takes (read from the strict object that found it), the unknown
 * keys, and the nearest known key of each that has one; for a
 * discriminated union (a message's `role`), the values it takes.
 */
function expectedMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_union') {
    const options: unknown = Reflect.get(issue, 'options')
    if (!Array.isArray(options)) return undefined
    return `expected one of ${options.map((option) => JSON.stringify(option)).join('|')}`
  }
  if (issue.code !== 'unrecognized_keys') return undefined
  const shape: unknown = Reflect.get(Object(issue.inst?._zod.def), 'shape')
  if (typeof shape !== 'object' || shape === null) return undefined
  const known = Object.keys(shape)
  const expected = `expected one of ${known.map((key) => `"${key}"`).join(', ')}`
  return `${expected}; ${unknownKeysMessage(issue.keys, known)}`
}

/**
 * `received unknown option "baseUrl"; did you mean "baseURL"?`: the unknown
 * keys, and for each the known key it was probably meant as. With several,
 * each suggestion says which key it is for.
 */
function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const received = `received unknown option${keys.length > 1 ? 's' : ''} ${keys
    .map((key) => `"${key}"`)
    .join(', ')}`
  const suggestions = keys.flatMap((key) => {
    const near = nearestKey(key, known)
    if (near === undefined) return []
    return keys.length > 1 ? [`"${near}" for "${key}"`] : [`"${near}"`]
  })
  return suggestions.length === 0
    ? received
    : `${received}; did you mean ${suggestions.join(', ')}?`
}

/**
 * The known key `key` was most likely meant as, or `undefined` when none is
 * close: the same letters ignoring case, `_` and `-` (`baseUrl`, `apikey`,
 * `max_tokens`), else the fewest edits — insertions, deletions, changes or
 * swaps of two neighbours — up to a third of the key's length, at least one
 * (`fallback` for `fallbacks`, `timout` for `timeout`). A tie goes to the
 * key the object lists first.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = loose(key)
  const limit = Math.max(1, Math.floor(wanted.length / 3))
  let best: string | undefined
  let bestDistance = limit + 1
  for (const candidate of known) {
    const distance = editDistance(wanted, loose(candidate))
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** A key with case, `_` and `-` left out: how two spellings of one name compare. */
function loose(key: string): string {
  return key.toLowerCase().replace(/[-_]/g, '')
}

/**
 * The optimal string alignment distance: the fewest insertions, deletions,
 * substitutions and swaps of two adjacent characters that turn `a` into `b`.
 * Quadratic, on option names of a few dozen characters, once per failure.
 */
function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between the first i characters of a and the first j of b.
  const rows: number[][] = []
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const above = rows[i - 1] as number[]
      let distance = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, ((rows[i - 2] as number[])[j - 2] as number) + 1)
      }
      row.push(distance)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}

function configErrorFromIssue(issue: Issue, prefix: string): ConfigError {
  const hidden = issue.path.some((key) => typeof key === 'string' && secretNames.has(key))
  let message = issue.message
    .replace(/^Invalid (input|option): /, '')
    .replace(/, received \w+$/, '')
  if (issue.code === 'unrecognized_keys') {
    // The path names the first unknown key, so `{ fallback: [] }` is reported at `fallback`.
    // `expectedMessage` words it whole when it could read the object's keys.
    if (!message.startsWith('expected ')) message = unknownKeysMessage(issue.keys, [])
    return new ConfigError({
      path: formatPath(prefix, [...issue.path, ...issue.keys.slice(0, 1)]),
      message,
    })
  }
  if (!hidden) message = `${message}; received ${describe(received(issue))}`
  return new ConfigError({ path: formatPath(prefix, issue.path), message })
}

/**
 * The value the issue is about. A discriminated union that matched no option
 * reports at the discriminator's path but gives the whole object as input:
 * show the discriminator's value, as the path promises.
 */
function received(issue: Issue): unknown {
  const input = issue.input
  if (issue.code !== 'invalid_union' || issue.discriminator === undefined) return input
  return typeof input === 'object' && input !== null
    ? Reflect.get(input, issue.discriminator)
    : input
}

const identifier = /^[A-Za-z_$][\w$]*$/

/**
 * The path as code would write it, after `prefix`: `fallbacks[1].model` from
 * `['fallbacks', 1, 'model']`; a key that is not an identifier in brackets,
 * `headers["x-tenant"]`.
 */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let text = prefix
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`
    else if (typeof key === 'string' && identifier.test(key)) text += text === '' ? key : `.${key}`
    else text += `[${JSON.stringify(String(key))}]`
  }
  return text
}

/** A short, secret-free picture of a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 40 ? `"${value.slice(0, 40)}…"` : JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array'
  if (typeof value === 'function') return 'a function'
  return 'an object'
}
