import { copyPlain } from './attempt-request.js'
import type { ChatParamName, ChatParams, ChatRequest } from './chat-request.js'
import { frozenCopy } from './frozen-copy.js'
import type { ConfiguredTarget, Provider } from './provider.js'
import type { KnownName, TargetNames } from './target-names.js'
import type { Target } from './target.js'

/** The chains a call can move along: primary and fallbacks, and the two special ones. */
export type ChainName = 'main' | 'context_window' | 'content_policy'

/** One entry of a chain, resolved: its provider, model and own settings. */
export interface PlanEntry {
  /** Entries with equal provider, model, base URL and key share a group: they are one target. */
  readonly group: number
  /** `"provider/model"`. */
  readonly target: string
  readonly provider: Provider
  /** The model without the prefix. */
  readonly model: string
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly params: ChatParams | undefined
  readonly unset: readonly ChatParamName[] | undefined
  /** `1 + retries`. */
  readonly maxAttempts: number
  /** `Infinity` when neither the target nor the call sets one. */
  readonly attemptTimeoutMs: number
}

/** The ordered, immutable targets of one call, built without aliasing the caller's inputs. */
export interface Plan {
  readonly entries: readonly PlanEntry[]
  /** The health key of each group: provider, model, base URL and a hash of the key. */
  readonly groupKeys: readonly string[]
  /** Entry indices per chain; `undefined` when the caller gave no such chain. */
  readonly chains: {
    readonly main: readonly number[]
    readonly context_window: readonly number[] | undefined
    readonly content_policy: readonly number[] | undefined
  }
}

/** What {@link buildPlan} needs of the call's options, already checked. */
export interface PlanOptions {
  readonly fallbacks: readonly Target[] | undefined
  readonly contextWindowFallbacks: readonly Target[] | undefined
  readonly contentPolicyFallbacks: readonly Target[] | undefined
  readonly retries: number
  readonly attemptTimeoutMs: number | undefined
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
}

/**
 * Builds the plan of one call from its request and options, with the
 * client's `names`. Reads the inputs, never keeps them: every entry is a
 * fresh value. Throws a `ConfigError` for a target whose provider is not
 * configured.
 */
export function buildPlan(request: ChatRequest, options: PlanOptions, names: TargetNames): Plan {
  const entries: PlanEntry[] = []
  const groupKeys: string[] = []
  // Read once per provider and call: plans are a handful of entries, mostly of one provider.
  let lastProvider: Provider | undefined
  let lastConfigured: ConfiguredTarget | undefined
  const configuredOf = (provider: Provider): ConfiguredTarget | undefined => {
    if (provider !== lastProvider) {
      lastProvider = provider
      lastConfigured = readConfiguredTarget(provider)
    }
    return lastConfigured
  }

  /**
   * Where the entry's calls go and with which key: its own base URL and key,
   * else the provider's configured ones. A target with its own base URL and
   * no key is sent none (DESIGN.md rule 2), so its key part stays empty.
   */
  const healthKey = (
    known: KnownName,
    baseURL: string | undefined,
    apiKey: string | undefined,
  ): string => {
    if (baseURL !== undefined) return names.healthKey(known, baseURL, apiKey)
    const configured = configuredOf(known.provider)
    return names.healthKey(known, configured?.baseURL ?? '', apiKey ?? configured?.apiKey)
  }

  const add = (target: Target, path: string, primary: boolean): number => {
    const object = typeof target === 'string' ? undefined : target
    const name = object === undefined ? (target as string) : object.model
    const known = names.resolve(name, object === undefined ? path : `${path}.model`)
    const apiKey = primary ? options.apiKey : object?.apiKey
    const baseURL = primary ? options.baseURL : object?.baseURL
    const key = healthKey(known, baseURL, apiKey)
    // Plans are a handful of entries, and keys are interned: a scan beats a Map.
    let group = groupKeys.indexOf(key)
    if (group === -1) group = groupKeys.push(key) - 1
    const headers = primary ? options.headers : object?.headers
    const params = object?.params
    const unset = object?.unset
    entries.push({
      group,
      target: name,
      provider: known.provider,
      model: known.model,
      apiKey,
      baseURL,
      headers: headers === undefined ? undefined : frozenCopy(headers),
      params: params === undefined ? undefined : (copyPlain(params) as ChatParams),
      unset: unset === undefined ? undefined : Object.freeze(unset.slice()),
      maxAttempts: 1 + (object?.retries ?? options.retries),
      attemptTimeoutMs: object?.attemptTimeoutMs ?? options.attemptTimeoutMs ?? Infinity,
    })
    return entries.length - 1
  }

  const chain = (
    targets: readonly Target[] | undefined,
    name: string,
    into: number[],
  ): number[] => {
    if (targets !== undefined) {
      for (let index = 0; index < targets.length; index++) {
        into.push(add(targets[index] as Target, `${name}[${index}]`, false))
      }
    }
    return into
  }

  const main = chain(options.fallbacks, 'fallbacks', [add(request.model, 'request.model', true)])
  const { contextWindowFallbacks, contentPolicyFallbacks } = options
  return {
    entries,
    groupKeys,
    chains: {
      main,
      context_window:
        contextWindowFallbacks === undefined
          ? undefined
          : chain(contextWindowFallbacks, 'contextWindowFallbacks', []),
      content_policy:
        contentPolicyFallbacks === undefined
          ? undefined
          : chain(contentPolicyFallbacks, 'contentPolicyFallbacks', []),
    },
  }
}

/**
 * A provider's {@link Provider.configuredTarget}, or `undefined` when it has
 * none, throws, or answers something else: the name of a health record is
 * no reason to fail a call, so such a provider's targets are named as if it
 * had none (empty base URL and key).
 */
function readConfiguredTarget(provider: Provider): ConfiguredTarget | undefined {
  if (provider.configuredTarget === undefined) return undefined
  let configured: unknown
  try {
    configured = provider.configuredTarget()
  } catch {
    return undefined
  }
  if (typeof configured !== 'object' || configured === null) return undefined
  const { baseURL, apiKey } = configured as Partial<Record<keyof ConfiguredTarget, unknown>>
  if (typeof baseURL !== 'string' || (apiKey !== undefined && typeof apiKey !== 'string')) {
    return undefined
  }
  return configured as ConfiguredTarget
}
