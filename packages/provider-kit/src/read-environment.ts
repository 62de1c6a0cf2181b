import { checkHttpURL } from './check-provider-options.js'

/**
 * An environment variable, as a provider factory reads its documented
 * defaults (`OPENAI_API_KEY`, `ANTHROPIC_BASE_URL`, …): an empty variable
 * counts as unset, and outside Node-like runtimes every variable is unset.
 * A factory reads the environment here and nowhere else (STYLE §11).
 */
export function readEnvironment(name: string): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env[name]
  return value === '' ? undefined : value
}

/**
 * A base URL from the environment variable `name`, checked as the options'
 * base URLs are: a `ConfigError` at `name` (naming `example`, never the
 * value) unless it is an absolute `http:` or `https:` URL. `undefined` when
 * the variable is unset.
 *
 * @throws ConfigError
 */
export function readEnvironmentURL(name: string, example: string): string | undefined {
  const url = readEnvironment(name)
  if (url !== undefined) checkHttpURL(url, name, example)
  return url
}
