import { ConfigError } from './errors.js'
import { hashKey } from './hash-key.js'
import type { Provider } from './provider.js'

/** A `"provider/model"` name, resolved. */
export interface KnownName {
  readonly provider: Provider
  /** The model without the prefix. */
  readonly model: string
  /** Health keys built for this name: by base URL, then by API key (`''` for none). */
  readonly healthKeys: Map<string, Map<string, string>>
}

/**
 * A client's target names, resolved once: each `"provider/model"` with its
 * provider and model, and each health key already built from it. A client
 * names the same few targets on every call, and resolving a name, hashing
 * its key and joining the health key's four parts was half of the engine's
 * own work on a call (the core benchmark). A key built once is also the same
 * string on every call, which the plan's grouping compares by identity and
 * the health store's map finds by its cached hash.
 *
 * The API keys it has seen are held as map keys, as the client's options and
 * providers hold theirs; a client that sees more than {@link maxEntries}
 * names and keys starts over, so ever-new per-call keys cost memory for none.
 */
export class TargetNames {
  readonly providers: ReadonlyMap<string, Provider>
  readonly #names = new Map<string, KnownName>()
  #entries = 0

  constructor(providers: ReadonlyMap<string, Provider>) {
    this.providers = providers
  }

  /**
   * `name` resolved. Throws a {@link ConfigError} at `path` when no such
   * provider is configured (such a name is never remembered).
   */
  resolve(name: string, path: string): KnownName {
    const known = this.#names.get(name)
    if (known !== undefined) return known
    const resolved: KnownName = {
      provider: findProvider(name, path, this.providers),
      model: name.slice(name.indexOf('/') + 1),
      healthKeys: new Map(),
    }
    this.#remember()
    this.#names.set(name, resolved)
    return resolved
  }

  /**
   * The health key of `known` at `baseURL` with `apiKey`: provider, model,
   * base URL and a hash of the key (never the key).
   */
  healthKey(known: KnownName, baseURL: string, apiKey: string | undefined): string {
    let byKey = known.healthKeys.get(baseURL)
    if (byKey === undefined) {
      byKey = new Map()
      known.healthKeys.set(baseURL, byKey)
    }
    const keyPart = apiKey ?? ''
    let healthKey = byKey.get(keyPart)
    if (healthKey === undefined) {
      const hash = apiKey === undefined ? '' : hashKey(apiKey)
      healthKey = `${known.provider.id}\u0000${known.model}\u0000${baseURL}\u0000${hash}`
      this.#remember()
      byKey.set(keyPart, healthKey)
    }
    return healthKey
  }

  #remember(): void {
    this.#entries += 1
    if (this.#entries > maxEntries) {
      this.#names.clear()
      this.#entries = 1
    }
  }
}

/** Names and health keys a client remembers before it starts over. */
const maxEntries = 1_000

/**
 * The provider of `"provider/model"`, split at the first slash. Throws a
 * {@link ConfigError} at `path` when no such provider is configured.
 */
function findProvider(
  name: string,
  path: string,
  providers: ReadonlyMap<string, Provider>,
): Provider {
  const id = name.slice(0, name.indexOf('/'))
  const provider = providers.get(id)
  if (provider !== undefined) return provider
  const known = [...providers.keys()].map((known) => `"${known}"`).join(', ')
  throw new ConfigError({
    path,
    message: `unknown provider "${id}" in "${name}"; configured: ${known}`,
  })
}
