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
 * that object takes; in a union, the problem reported is the one of the
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
 * object takes (read from the strict object that found it); for a
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
  return `expected one of ${Object.keys(shape)
    .map((key) => `"${key}"`)
    .join(', ')}`
}

function configErrorFromIssue(issue: Issue, prefix: string): ConfigError {
  const hidden = issue.path.some((key) => typeof key === 'string' && secretNames.has(key))
  let message = issue.message
    .replace(/^Invalid (input|option): /, '')
    .replace(/, received \w+$/, '')
  if (issue.code === 'unrecognized_keys') {
    // The path names the first unknown key, so `{ fallback: [] }` is reported at `fallback`.
    const expected = message.startsWith('expected ') ? `${message}; ` : ''
    const keys = issue.keys.map((key) => `"${key}"`).join(', ')
    message = `${expected}received unknown option${issue.keys.length > 1 ? 's' : ''} ${keys}`
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
