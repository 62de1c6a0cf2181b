import { checkHttpURL } from '@understudy/provider-kit'

/**
 * The one place this package reads the environment (STYLE §11): the
 * documented defaults of `google()`.
 * An empty variable counts as unset; outside Node-like
 * runtimes every variable is unset.
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
