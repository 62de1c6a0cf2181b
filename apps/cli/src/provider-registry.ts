import type { Provider } from '@understudy/core'

/** A provider factory as the command calls it: with the options a config file gave, checked by the factory itself. */
export type ProviderFactory = (options: object) => Provider

/** How the command makes the providers of one `type` in a config file. */
export interface ProviderEntry {
  /**
   * Loads the factory. Imported on use, so a chain that needs only OpenAI
   * never loads another vendor's package, and `--help` loads none.
   */
  readonly load: () => Promise<ProviderFactory>
  /**
   * Whether the factory takes an `id`, so one `type` can serve under
   * several names (two OpenAI-compatible servers); otherwise the provider's
   * id is its type.
   */
  readonly takesId: boolean
}

/**
 * The factory's options are checked by the factory (zod, strict, with
 * "did you mean"), so the command passes what the file says as it is.
 */
const fixedId = (load: () => Promise<(options: never) => Provider>): ProviderEntry => ({
  load: load as () => Promise<ProviderFactory>,
  takesId: false,
})
const ownId = (load: () => Promise<(options: never) => Provider>): ProviderEntry => ({
  load: load as () => Promise<ProviderFactory>,
  takesId: true,
})

const openaiPackage = () => import('@understudy/providers-openai')

/**
 * Every provider `type` a config file may name, and the one a target's
 * prefix means when no file names it (`openai/gpt-4o` → `openai()` with its
 * environment defaults). One line per factory: a new provider package joins
 * here.
 */
export const providerRegistry: Readonly<Record<string, ProviderEntry>> = Object.freeze({
  openai: fixedId(async () => (await openaiPackage()).openai),
  azure: fixedId(async () => (await openaiPackage()).azure),
  anthropic: fixedId(async () => (await import('@understudy/providers-anthropic')).anthropic),
  google: fixedId(async () => (await import('@understudy/providers-google')).google),
  'openai-compatible': ownId(async () => (await openaiPackage()).openaiCompatible),
  groq: ownId(async () => (await openaiPackage()).groq),
  together: ownId(async () => (await openaiPackage()).together),
  openrouter: ownId(async () => (await openaiPackage()).openrouter),
  deepseek: ownId(async () => (await openaiPackage()).deepseek),
  mistral: ownId(async () => (await openaiPackage()).mistral),
  fireworks: ownId(async () => (await openaiPackage()).fireworks),
  ollama: ownId(async () => (await openaiPackage()).ollama),
  lmstudio: ownId(async () => (await openaiPackage()).lmstudio),
  vllm: ownId(async () => (await openaiPackage()).vllm),
})

/** Every provider `type` the command knows, in the registry's order. */
export const providerTypes: readonly string[] = Object.freeze(Object.keys(providerRegistry))

/** The registry's entry for `type`, or `undefined` when the command does not know it. */
export function registeredProvider(type: string): ProviderEntry | undefined {
  return Object.hasOwn(providerRegistry, type) ? providerRegistry[type] : undefined
}
