import { ConfigError } from '@understudy/core'

/**
 * Throws a `ConfigError` at `path` unless `id` can prefix targets: not
 * empty and without `/` (the model of `"<id>/<model>"` is everything after
 * the first `/`).
 */
export function checkProviderId(id: string, path: string): void {
  if (typeof id !== 'string' || id === '' || id.includes('/')) {
    throw new ConfigError({
      path,
      message: `expected a provider id without "/" (targets are "<id>/<model>"), got ${JSON.stringify(id)}`,
    })
  }
}

/** Throws a `ConfigError` at `path` unless `url` is an `http:` or `https:` URL. */
export function checkHttpURL(url: string, path: string, example: string): void {
  let protocol: string | undefined
  try {
    protocol = new URL(url).protocol
  } catch {
    protocol = undefined
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError({
      path,
      // Not the value: a URL may carry credentials (`https://user:pass@…`).
      message: `expected an http: or https: URL, such as "${example}"`,
    })
  }
}
