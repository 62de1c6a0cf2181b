import { ConfigError, parseConfig } from '@understudy/core'
import type { Dispatcher } from 'undici'
import * as z from 'zod'
import type { FetchFunction } from './send-request.js'

/**
 * Checks a provider factory's options against its zod `schema` and returns
 * what the schema gives (a fresh object: a later write to the caller's
 * options changes nothing). On failure throws a `ConfigError` (kind
 * `config`) whose path starts at `path`, as core's `parseConfig` words it:
 * an unknown option is named with the nearest valid one
 * (`openai(options).baseUrl: expected one of …; received unknown option
 * "baseUrl"; did you mean "baseURL"?`), and no value under `apiKey`,
 * `headers` or `baseURL` is shown. `undefined` options are `{}`; options
 * that are not an object at all (a key passed where the options go) are
 * refused without showing them.
 *
 * Call it once, in the factory, before anything is sent: a typo in plain
 * JavaScript would otherwise be ignored, and the key sent to the default
 * base URL instead of the one meant.
 *
 * @param path The factory's options as its users write them: `'openai(options)'`.
 * @throws ConfigError
 * @example
 * const acmeOptionsSchema = z.strictObject({
 *   ...providerOptionsShape,
 *   baseURL: httpURLSchema('https://api.acme.example/v1').optional(),
 * })
 * export function acme(options: AcmeOptions = {}): Provider {
 *   const checked = checkProviderOptions(acmeOptionsSchema, options, 'acme(options)')
 *   // …
 * }
 */
export function checkProviderOptions<T>(
  schema: z.core.$ZodType<T>,
  options: unknown,
  path: string,
): T {
  if (options === undefined) return parseConfig(schema, {}, path)
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    // Not the value: a key passed as the only argument (`openai('sk-…')`) lands here.
    throw new ConfigError({ path, message: 'expected an options object' })
  }
  return parseConfig(schema, options, path)
}

/**
 * What the message says when a URL is refused: the example, never the
 * value, which may carry credentials (`https://user:pass@…`).
 */
function urlMessage(example: string): string {
  return `expected an http: or https: URL, such as "${example}"`
}

/** Whether `value` is an absolute URL whose scheme is `http:` or `https:`. */
function isHttpURL(value: string): boolean {
  let protocol: string
  try {
    protocol = new URL(value).protocol
  } catch {
    return false
  }
  return protocol === 'http:' || protocol === 'https:'
}

/**
 * A zod schema of a base URL: an absolute `http:` or `https:` URL, whose
 * error names `example`. `localhost:8080/v1` parses as a URL of scheme
 * `localhost:` and is refused here, before any I/O, rather than failing
 * every attempt later.
 *
 * @param example A URL of the provider's own, shown in the error: `'https://api.openai.com/v1'`.
 */
export function httpURLSchema(example: string): z.ZodType<string, string> {
  const message = urlMessage(example)
  return z.string({ message }).refine(isHttpURL, { message })
}

/**
 * Throws a `ConfigError` at `path` unless `url` is an absolute `http:` or
 * `https:` URL: for a URL that does not come through the options (an
 * environment variable: `checkHttpURL(value, 'OPENAI_BASE_URL', …)`). The
 * message names `example`, never `url`.
 *
 * @throws ConfigError
 */
export function checkHttpURL(url: string, path: string, example: string): void {
  if (!isHttpURL(url)) throw new ConfigError({ path, message: urlMessage(example) })
}

/** The zod schemas of the options every HTTP provider factory takes; see {@link providerOptionsShape}. */
export interface ProviderOptionsShape {
  readonly apiKey: z.ZodOptional<z.ZodType<string, string>>
  readonly keyPerTarget: z.ZodOptional<z.ZodType<boolean, boolean>>
  readonly headers: z.ZodOptional<
    z.ZodType<Readonly<Record<string, string>>, Readonly<Record<string, string>>>
  >
  readonly dispatcher: z.ZodOptional<z.ZodType<Dispatcher, Dispatcher>>
  readonly fetch: z.ZodOptional<z.ZodType<FetchFunction, FetchFunction>>
}

/**
 * The options every HTTP provider factory takes, as a zod shape to spread
 * into the factory's own `z.strictObject`: `apiKey` (a non-empty string),
 * `keyPerTarget` (see {@link checkProviderKey}), `headers` (string values),
 * `dispatcher` (an undici `Dispatcher`) and `fetch` (a function). Not
 * `baseURL`, whose example differs by provider (and Azure names it
 * `endpoint`): add `baseURL: httpURLSchema(example).optional()`.
 */
export const providerOptionsShape: ProviderOptionsShape = {
  apiKey: z
    .string({ message: 'expected a string key' })
    .min(1, { message: 'expected a non-empty key' })
    .optional(),
  keyPerTarget: z.boolean({ message: 'expected true or false' }).optional(),
  headers: z.record(z.string(), z.string({ message: 'expected a string header value' })).optional(),
  dispatcher: z
    .custom<Dispatcher>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof Reflect.get(value, 'dispatch') === 'function',
      { message: 'expected an undici Dispatcher (an Agent, a Pool, a ProxyAgent…)' },
    )
    .optional(),
  fetch: z
    .custom<FetchFunction>((value) => typeof value === 'function', {
      message: 'expected a fetch function',
    })
    .optional(),
}

/** Where a provider's configured key comes from, as its users set it: what its messages tell them to do. */
export interface KeySource {
  /** The factory as its users call it: `'openai()'`, `'groq()'`. */
  readonly factory: string
  /** The environment variable the factory reads the key from, when it reads one: `'OPENAI_API_KEY'`. */
  readonly env?: string | undefined
}

/** What {@link checkProviderKey} looks at: where the key comes from, and what was found. */
export interface ProviderKeyCheck extends KeySource {
  /** The key found now: the `apiKey` option, else the environment variable's value. */
  readonly key: string | undefined
  /** The factory's `keyPerTarget` option: every target brings its own key, so none is needed here. */
  readonly keyPerTarget: boolean | undefined
}

/**
 * How to give a provider its key, as messages say it: `set OPENAI_API_KEY
 * or pass apiKey to openai()`; `pass apiKey to openaiCompatible()` when it
 * reads no variable.
 */
export function keyHelp(source: KeySource): string {
  const option = `pass apiKey to ${source.factory}`
  return source.env === undefined ? option : `set ${source.env} or ${option}`
}

/**
 * Throws a `ConfigError` at the factory when no key can ever be found: no
 * `apiKey` option, the environment variable unset (or none read), and
 * `keyPerTarget` not set. Such a provider could only fail every target
 * that brings no key of its own, with kind `auth`, on every call: a config
 * bug, reported before any I/O and saying how to fix it —
 * `openai(options).apiKey: no API key: set OPENAI_API_KEY or pass apiKey to
 * openai(), or keyPerTarget: true if every target brings its own apiKey`.
 *
 * A factory whose server takes no key (Ollama) does not call it; one whose
 * targets each carry a key says so with `keyPerTarget: true`.
 *
 * @throws ConfigError
 */
export function checkProviderKey(check: ProviderKeyCheck): void {
  if (check.keyPerTarget === true || (check.key !== undefined && check.key !== '')) return
  const factory = check.factory.replace(/\(\)$/, '')
  throw new ConfigError({
    path: `${factory}(options).apiKey`,
    message: `no API key: ${keyHelp(check)}, or keyPerTarget: true if every target brings its own apiKey`,
  })
}
