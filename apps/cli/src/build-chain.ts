import {
  type CallOptions,
  type ChatRequest,
  isUnderstudyError,
  type Message,
  type Provider,
  parseConfig,
  type Target,
  targetSchema,
} from '@understudy/core'
import { CliError } from './cli-error.js'
import type { FileTarget, ProviderEntryOptions } from './config-file.js'
import { configPath } from './config-path.js'
import type { LoadedConfig } from './load-config.js'
import { providerTypes, registeredProvider } from './provider-registry.js'

/** What `understudy chat` was told on its command line, parsed. */
export interface ChatFlags {
  readonly model?: string
  /** Every `--fallback`, in order; empty when none was given. */
  readonly fallbacks: readonly string[]
  readonly timeoutMs?: number
  readonly retries?: number
}

/** Everything one call needs: the providers, the request and the call's options. */
export interface Chain {
  readonly providers: readonly Provider[]
  readonly request: ChatRequest
  /** The call options, without `signal`, which the caller adds. */
  readonly callOptions: CallOptions
}

/** Where a value came from, for messages: a file, or the command line. */
type Source = { readonly file: string } | undefined

/**
 * The chain of one `understudy chat`: the command line over the config file
 * (`--model`, `--fallback`, `--timeout`, `--retries` win), keys read from the
 * variables the file names, and one provider per prefix the chain uses —
 * the file's entry, or the registry's factory with its environment
 * defaults; `providerDefaults` (the command's dispatcher) go to every
 * factory. A mistake is a {@link CliError} (`usage` or `config`, exit 2)
 * naming where it is, found before any I/O.
 */
export async function buildChain(
  prompt: string,
  flags: ChatFlags,
  loaded: LoadedConfig | undefined,
  env: NodeJS.ProcessEnv,
  providerDefaults: Readonly<Record<string, unknown>> = {},
): Promise<Chain> {
  const config = loaded?.config ?? {}
  const source: Source = loaded === undefined ? undefined : { file: loaded.file }

  const model = flags.model ?? config.model
  if (model === undefined) {
    throw new CliError(
      'usage',
      'no model: pass --model provider/model, or set "model" in a config file (--config)',
    )
  }
  if (flags.model !== undefined) checkFlagTarget(flags.model, '--model')
  for (const fallback of flags.fallbacks) checkFlagTarget(fallback, '--fallback')

  const fallbacks =
    flags.fallbacks.length > 0
      ? flags.fallbacks
      : resolveChain(config.fallbacks, 'fallbacks', source, env)
  const contextWindowFallbacks = resolveChain(
    config.contextWindowFallbacks,
    'contextWindowFallbacks',
    source,
    env,
  )
  const contentPolicyFallbacks = resolveChain(
    config.contentPolicyFallbacks,
    'contentPolicyFallbacks',
    source,
    env,
  )

  const names = new Set<string>()
  for (const target of [
    model,
    ...(fallbacks ?? []),
    ...(contextWindowFallbacks ?? []),
    ...(contentPolicyFallbacks ?? []),
  ])
    names.add(prefixOf(target))
  const providers: Provider[] = []
  for (const name of names)
    providers.push(
      await makeProvider(name, config.providers?.[name], source, env, providerDefaults),
    )

  const messages: Message[] = []
  if (config.system !== undefined) messages.push({ role: 'system', content: config.system })
  messages.push({ role: 'user', content: prompt })

  const callOptions: CallOptions = {
    ...(fallbacks !== undefined && { fallbacks }),
    ...(contextWindowFallbacks !== undefined && { contextWindowFallbacks }),
    ...(contentPolicyFallbacks !== undefined && { contentPolicyFallbacks }),
    ...defined('retries', flags.retries ?? config.retries),
    ...defined('timeoutMs', flags.timeoutMs ?? config.timeoutMs),
    ...defined('attemptTimeoutMs', config.attemptTimeoutMs),
    ...defined('firstTokenTimeoutMs', config.firstTokenTimeoutMs),
    ...defined('idleTimeoutMs', config.idleTimeoutMs),
    ...defined('hedgeAfterMs', config.hedgeAfterMs),
    ...defined('midStream', config.midStream),
    ...defined('backoff', config.backoff),
    ...defined('policy', config.policy),
  }
  return { providers, request: { ...config.params, model, messages }, callOptions }
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (optional fields stay absent). */
function defined<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]: V })
}

/** A `--model` or `--fallback` value checked as core checks a target: `"provider/model"`. */
function checkFlagTarget(value: string, flag: string): void {
  try {
    parseConfig(targetSchema, value, flag)
  } catch (error) {
    if (isUnderstudyError(error, 'config')) throw new CliError('usage', error.message)
    throw error
  }
}

function prefixOf(target: Target): string {
  const model = typeof target === 'string' ? target : target.model
  return model.slice(0, model.indexOf('/'))
}

/** A message about `path` inside the file, or about the command line when there is no file. */
function where(source: Source, path: string): string {
  return source === undefined ? path : `${source.file}: ${path}`
}

/** A file's chain with each target's `apiKeyEnv` read into its `apiKey`. */
function resolveChain(
  chain: readonly FileTarget[] | undefined,
  name: string,
  source: Source,
  env: NodeJS.ProcessEnv,
): readonly Target[] | undefined {
  return chain?.map((target, i) => {
    if (typeof target === 'string' || target.apiKeyEnv === undefined) return target
    const { apiKeyEnv, ...rest } = target
    return { ...rest, apiKey: readKey(rest.apiKey, apiKeyEnv, configPath(name, i), source, env) }
  })
}

/** The key named by `apiKeyEnv`; a mistake when both are given or the variable is unset. */
function readKey(
  inline: string | undefined,
  variable: string,
  path: string,
  source: Source,
  env: NodeJS.ProcessEnv,
): string {
  if (inline !== undefined)
    throw new CliError('config', `${where(source, path)}: give apiKey or apiKeyEnv, not both`)
  const key = env[variable]
  if (key === undefined || key === '')
    throw new CliError('config', `${where(source, `${path}.apiKeyEnv`)}: ${variable} is not set`)
  return key
}

/**
 * The provider serving targets `name/…`: made from the file's entry when
 * there is one, else by the registry's factory of that name with its
 * environment defaults (`openai()` reads `OPENAI_API_KEY`).
 */
async function makeProvider(
  name: string,
  entry: ProviderEntryOptions | undefined,
  source: Source,
  env: NodeJS.ProcessEnv,
  providerDefaults: Readonly<Record<string, unknown>>,
): Promise<Provider> {
  const path = configPath('providers', name)
  const type = entry?.type ?? name
  const registered = registeredProvider(type)
  if (registered === undefined) {
    const known = providerTypes.join(', ')
    throw entry === undefined
      ? new CliError(
          'config',
          `unknown provider "${name}" (a target's prefix): the command knows ${known}; a config file can add others under providers.${name}, with a type`,
        )
      : new CliError(
          'config',
          `${where(source, path)}: "${name}" is not a provider type; add type: one of ${known}`,
        )
  }
  const { type: _type, apiKeyEnv, ...given } = entry ?? {}
  const options: Record<string, unknown> = { ...providerDefaults, ...given }
  if (apiKeyEnv !== undefined) options.apiKey = readKey(entry?.apiKey, apiKeyEnv, path, source, env)
  if (name !== type) {
    if (!registered.takesId)
      throw new CliError(
        'config',
        `${where(source, path)}: a provider of type "${type}" serves the targets "${type}/…", so its entry must be named "${type}"; for a second server of that dialect use type: openai-compatible`,
      )
    options.id = name
  }
  const factory = await registered.load()
  try {
    return factory(options)
  } catch (error) {
    if (!isUnderstudyError(error, 'config')) throw error
    // The factory names its own options (`openai()(options).baseUrl`), which the
    // user wrote at `path`; anything else it names (`OPENAI_BASE_URL`) is kept.
    const factoryPath = String(Reflect.get(error, 'path') ?? '')
    const option = /^.*?\(options\)/.exec(factoryPath)
    if (option === null) throw new CliError('config', `${where(source, path)}: ${error.message}`)
    const rest = error.message.slice(factoryPath.length + 2)
    throw new CliError(
      'config',
      `${where(source, path + factoryPath.slice(option[0].length))}: ${rest}`,
    )
  }
}
