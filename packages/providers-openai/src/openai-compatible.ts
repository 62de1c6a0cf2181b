import type { Provider } from '@understudy/core'
import {
  checkProviderKey,
  checkProviderOptions,
  type DefineProviderOptions,
  defineProvider,
  httpURLSchema,
  type KeySource,
  providerOptionsShape,
  readEnvironment,
} from '@understudy/provider-kit'
import * as z from 'zod'
import { readOpenAIError } from './openai-errors.js'
import { buildOpenAIRequest, type OpenAIRequestOptions } from './openai-request.js'
import { parseOpenAIResponse } from './openai-response.js'
import { createOpenAIStreamParser } from './openai-stream.js'
import {
  definedOnly,
  flagSchema,
  maxTokensFieldSchema,
  providerIdSchema,
} from './option-schemas.js'

/**
 * The options of {@link openaiCompatible}: zod decides,
 * {@link OpenAICompatibleOptions} documents. A refused base URL is shown
 * `example`: the server the factory is for.
 */
function compatibleShape(example: string) {
  return {
    ...providerOptionsShape,
    id: providerIdSchema,
    baseURL: httpURLSchema(example),
    apiKeyEnv: z
      .string({ message: 'expected the name of an environment variable' })
      .min(1, { message: 'expected the name of an environment variable' })
      .optional(),
    keyRequired: flagSchema.optional(),
    includeUsage: flagSchema.optional(),
    assistantPrefix: flagSchema.optional(),
    maxTokensField: maxTokensFieldSchema.optional(),
  }
}

const compatibleOptionsSchema = z.strictObject(compatibleShape('https://api.groq.com/openai/v1'))

/** Options of {@link openaiCompatible}: one OpenAI-compatible server as a provider. */
export interface OpenAICompatibleOptions {
  /**
   * The prefix of this server's targets: `"groq"` serves `"groq/llama-3.3-70b"`.
   * Not empty, no `/`.
   */
  readonly id: string
  /**
   * Where requests go, up to the segment before `/chat/completions`:
   * `https://api.groq.com/openai/v1`, `http://127.0.0.1:11434/v1`.
   */
  readonly baseURL: string
  /**
   * The API key, sent as `Authorization: Bearer …` to `baseURL` only
   * (DESIGN.md rule 2). Not empty. @default the variable named by
   * `apiKeyEnv`: the factory throws a `ConfigError` when neither gives a key
   * (unless `keyRequired: false` or `keyPerTarget`), and each call reads the
   * variable again, so a rotated key is used and one unset later fails that
   * call with kind `auth`
   */
  readonly apiKey?: string
  /** The environment variable holding the key when `apiKey` is not given: `"GROQ_API_KEY"`. */
  readonly apiKeyEnv?: string
  /**
   * Every target of this provider brings its own `apiKey`: the factory then
   * does not throw when neither `apiKey` nor `apiKeyEnv` gives one. A target
   * without a key of its own then fails with kind `auth`, saying how to give
   * one. @default false
   */
  readonly keyPerTarget?: boolean
  /**
   * Whether a call must carry a key. `false` for servers that take none
   * (Ollama, LM Studio) or only sometimes (vLLM started with `--api-key`): a
   * call with no key is then sent without an `Authorization` header instead
   * of failing with kind `auth`, and the factory never asks for one. A key
   * that is there is still sent.
   * @default true
   */
  readonly keyRequired?: boolean
  /** Headers sent on every request of this provider (a target's own headers win). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Ask streams for a usage chunk (`stream_options.include_usage`). Set
   * `false` for a server that rejects the field (Mistral answers 422).
   * @default true
   */
  readonly includeUsage?: boolean
  /**
   * The server continues a final assistant message marked `prefix: true`
   * instead of answering after it, and its answer does not repeat that
   * prefix (DeepSeek's `/beta` endpoint). The provider then declares
   * `assistantPrefix`, so a stream interrupted elsewhere can be continued
   * here (`midStream: 'continue'`). Off in every preset: Mistral takes
   * `prefix` but its answer starts with the prefix again, and DeepSeek takes
   * it only on its beta base URL.
   * @default false
   */
  readonly assistantPrefix?: boolean
  /**
   * Where `maxTokens` goes. @default as `openai()`: `max_completion_tokens`
   * for OpenAI's reasoning and `gpt-5` model names, else `max_tokens`
   */
  readonly maxTokensField?: OpenAIRequestOptions['maxTokensField']
  /**
   * The undici dispatcher for every request: an `Agent` with your pool
   * settings, a `ProxyAgent`, custom TLS. @default undici's global dispatcher
   */
  readonly dispatcher?: DefineProviderOptions['dispatcher']
  /** Send with this `fetch` instead of undici (runtimes without undici). */
  readonly fetch?: DefineProviderOptions['fetch']
}

/** Options of a preset (`groq()`, `ollama()`…): the options of {@link openaiCompatible}, each overriding the preset's. */
export type OpenAICompatiblePresetOptions = Partial<OpenAICompatibleOptions>

/**
 * An OpenAI-compatible Chat Completions server (vLLM, Ollama, Groq,
 * Together, OpenRouter, DeepSeek, a gateway of your own…) as a provider with
 * its own id: targets `"<id>/<model>"`, requests to
 * `<baseURL>/chat/completions`.
 *
 * Checks its options when called, before any I/O (see `@throws`). The key
 * (`apiKey`, else `process.env[apiKeyEnv]`) must be there when the provider
 * is made — unless `keyRequired: false` (a server that takes none) or
 * `keyPerTarget: true` (every target brings its own) — and the variable is
 * read again by each call that needs it; a key missing then fails that call
 * with kind `auth` (so the chain falls back), or, with `keyRequired:
 * false`, the call goes without one. The configured key goes only to the
 * configured `baseURL`; a target with its own `baseURL` and no `apiKey` is
 * sent no key (DESIGN.md rule 2).
 *
 * Attempts reject with the kinds of `openai()`: `rate_limit`, `quota`,
 * `auth`, `not_found`, `context_window` (also from the message forms of
 * vLLM, SGLang, DeepSeek, Groq and OpenRouter), `invalid_request`, `server`,
 * `overloaded`, `network`, `timeout`, `aborted`, `incomplete`; an error frame
 * inside a 200 stream is classified like the HTTP error it names.
 *
 * @throws ConfigError for an unknown option (naming the option meant: `did
 * you mean "baseURL"?`) or a value of the wrong type, when `id` is empty or
 * holds a `/`, `baseURL` is not an absolute `http:` / `https:` URL, or no key
 * can be found ("set GROQ_API_KEY or pass apiKey to groq()"; "pass apiKey
 * to openaiCompatible()" when no `apiKeyEnv` is named) while a key is
 * required and `keyPerTarget` is not set.
 *
 * @example
 * const local = openaiCompatible({ id: 'local', baseURL: 'http://127.0.0.1:8080/v1', keyRequired: false })
 * const client = createClient({ providers: [local] })
 * await client.complete({ model: 'local/qwen3-8b', messages: [{ role: 'user', content: 'hi' }] })
 */
export function openaiCompatible(options: OpenAICompatibleOptions): Provider {
  // Once per provider, never per call: parsed options are a fresh copy, so
  // the caller's object may change later and this provider does not.
  const checked = checkProviderOptions(
    compatibleOptionsSchema,
    options,
    'openaiCompatible(options)',
  )
  return compatibleProvider(checked, 'openaiCompatible()')
}

/** The options of {@link openaiCompatible} once checked: what {@link compatibleProvider} builds from. */
type CheckedOptions = z.output<typeof compatibleOptionsSchema>

/**
 * The provider of checked options; `factory` is the function users called
 * (`'groq()'`), named in the missing-key messages.
 */
function compatibleProvider(options: CheckedOptions, factory: string): Provider {
  const { id, baseURL, apiKeyEnv } = options
  const configuredKey = options.apiKey
  const keyRequired = options.keyRequired ?? true
  const keySource: KeySource = { factory, env: apiKeyEnv }
  const readKey = (): string | undefined =>
    configuredKey ?? (apiKeyEnv === undefined ? undefined : readEnvironment(apiKeyEnv))
  if (keyRequired) {
    checkProviderKey({ ...keySource, key: readKey(), keyPerTarget: options.keyPerTarget })
  }
  const requestOptions = {
    includeUsage: options.includeUsage ?? true,
    providerId: id,
    // Compatible servers (vLLM, Together, OpenRouter, Fireworks) take `top_k`; OpenAI's own API has none.
    topK: 'top_k' as const,
    ...(options.assistantPrefix === true && { assistantPrefix: true }),
    ...(options.maxTokensField !== undefined && { maxTokensField: options.maxTokensField }),
  }
  // Made once, not spread into a fresh object on every call.
  const completeOptions = Object.freeze({ ...requestOptions, stream: false })
  const streamOptions = Object.freeze({ ...requestOptions, stream: true })
  const provider = defineProvider(
    {
      id,
      baseURL,
      // Read per call, as before the factory checked it: a rotated key is used.
      apiKey: readKey,
      configuredKey: readKey,
      keyRequired,
      keySource,
      authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      headers: Object.freeze({ ...options.headers }),
      buildRequest: (request, { stream }) =>
        buildOpenAIRequest(request, stream ? streamOptions : completeOptions),
      parseResponse: parseOpenAIResponse,
      createStreamParser: createOpenAIStreamParser,
      readError: readOpenAIError,
    },
    {
      ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
      ...(options.fetch !== undefined && { fetch: options.fetch }),
    },
  )
  return options.assistantPrefix === true
    ? Object.freeze({ ...provider, assistantPrefix: true })
    : provider
}

/** What a preset fixes: where the server is, its key variable, what it accepts. */
type Preset = Pick<
  OpenAICompatibleOptions,
  'id' | 'baseURL' | 'apiKeyEnv' | 'keyRequired' | 'includeUsage' | 'assistantPrefix'
>

/** The options schema of each preset, made by its first call: zod compiles a parser per schema, about a millisecond. */
const presetSchemas = new Map<Preset, PresetSchema>()

/** What a preset's options are checked with: every option of {@link openaiCompatible}, none required. */
type PresetSchema = ReturnType<typeof presetSchemaOf>

function presetSchemaOf(baseURL: string) {
  return z.strictObject(compatibleShape(baseURL)).partial()
}

/**
 * The provider of a preset with the caller's options over it, checked as
 * `groq(options)`: messages name the preset (its id is its function's
 * name), and a refused base URL is shown the preset's own as the example.
 */
function fromPreset(preset: Preset, options: OpenAICompatiblePresetOptions): Provider {
  let schema = presetSchemas.get(preset)
  if (schema === undefined) {
    schema = presetSchemaOf(preset.baseURL)
    presetSchemas.set(preset, schema)
  }
  const checked = checkProviderOptions(schema, options, `${preset.id}(options)`)
  return compatibleProvider({ ...preset, ...definedOnly(checked) }, `${preset.id}()`)
}

const groqPreset: Preset = {
  id: 'groq',
  baseURL: 'https://api.groq.com/openai/v1',
  apiKeyEnv: 'GROQ_API_KEY',
  // Groq's API reference lists `stream_options.include_usage`.
  includeUsage: true,
}

/**
 * Groq (`"groq/llama-3.3-70b-versatile"`): `https://api.groq.com/openai/v1`,
 * key from `GROQ_API_KEY`. Every option of {@link openaiCompatible} overrides.
 *
 * @example
 * const client = createClient({ providers: [openai(), groq()] })
 */
export function groq(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(groqPreset, options)
}

const togetherPreset: Preset = {
  id: 'together',
  baseURL: 'https://api.together.xyz/v1',
  apiKeyEnv: 'TOGETHER_API_KEY',
  // Unsure: Together sends usage in its last chunk unasked and is not known
  // to reject the field; turn it off with `together({ includeUsage: false })` if it does.
  includeUsage: true,
}

/** Together AI (`"together/<model>"`): `https://api.together.xyz/v1`, key from `TOGETHER_API_KEY`. */
export function together(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(togetherPreset, options)
}

const openrouterPreset: Preset = {
  id: 'openrouter',
  baseURL: 'https://openrouter.ai/api/v1',
  apiKeyEnv: 'OPENROUTER_API_KEY',
  // Accepted (OpenRouter always sends usage; its docs call the field a no-op).
  includeUsage: true,
}

/**
 * OpenRouter (`"openrouter/anthropic/claude-sonnet-4.5"`: the model is
 * everything after the first `/`): `https://openrouter.ai/api/v1`, key from
 * `OPENROUTER_API_KEY`.
 */
export function openrouter(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(openrouterPreset, options)
}

const deepseekPreset: Preset = {
  id: 'deepseek',
  baseURL: 'https://api.deepseek.com/v1',
  apiKeyEnv: 'DEEPSEEK_API_KEY',
  // DeepSeek's API documents `stream_options.include_usage`.
  includeUsage: true,
}

/** DeepSeek (`"deepseek/deepseek-chat"`): `https://api.deepseek.com/v1`, key from `DEEPSEEK_API_KEY`. */
export function deepseek(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(deepseekPreset, options)
}

const mistralPreset: Preset = {
  id: 'mistral',
  baseURL: 'https://api.mistral.ai/v1',
  apiKeyEnv: 'MISTRAL_API_KEY',
  // Mistral rejects unknown fields: `stream_options` gets a 422 `extra_forbidden`
  // (avante.nvim issue 2347). It sends usage in the last chunk unasked.
  includeUsage: false,
}

/**
 * Mistral (`"mistral/mistral-large-latest"`): `https://api.mistral.ai/v1`,
 * key from `MISTRAL_API_KEY`. Streams do not send `stream_options` (Mistral
 * rejects it and reports usage anyway).
 */
export function mistral(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(mistralPreset, options)
}

const fireworksPreset: Preset = {
  id: 'fireworks',
  baseURL: 'https://api.fireworks.ai/inference/v1',
  apiKeyEnv: 'FIREWORKS_API_KEY',
  // Accepted; newer Fireworks models send stream usage only when asked
  // (langchain-ai/langchain pull request 36977).
  includeUsage: true,
}

/**
 * Fireworks AI (`"fireworks/accounts/fireworks/models/<model>"`):
 * `https://api.fireworks.ai/inference/v1`, key from `FIREWORKS_API_KEY`.
 */
export function fireworks(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(fireworksPreset, options)
}

const ollamaPreset: Preset = {
  id: 'ollama',
  baseURL: 'http://127.0.0.1:11434/v1',
  keyRequired: false,
  // Ollama's OpenAI layer reads `stream_options.include_usage` in current
  // versions; older ones ignore unknown fields (unsure from which version).
  includeUsage: true,
}

/**
 * A local Ollama (`"ollama/llama3.2"`): `http://127.0.0.1:11434/v1`, no key
 * (one given with `apiKey` is sent, for a proxy in front of it).
 */
export function ollama(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(ollamaPreset, options)
}

const vllmPreset: Preset = {
  id: 'vllm',
  baseURL: 'http://127.0.0.1:8000/v1',
  // The variable `vllm serve` itself reads for `--api-key`; a server started without one takes no key.
  apiKeyEnv: 'VLLM_API_KEY',
  keyRequired: false,
  // vLLM's OpenAI server implements `stream_options.include_usage`.
  includeUsage: true,
}

/**
 * A vLLM server (`"vllm/Qwen/Qwen3-8B"`): `http://127.0.0.1:8000/v1`, the
 * key from `VLLM_API_KEY` when set, else none.
 */
export function vllm(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(vllmPreset, options)
}

const lmstudioPreset: Preset = {
  id: 'lmstudio',
  baseURL: 'http://127.0.0.1:1234/v1',
  keyRequired: false,
  // Unsure whether LM Studio reports usage when asked; it is not known to
  // reject the field. Turn it off with `lmstudio({ includeUsage: false })` if it does.
  includeUsage: true,
}

/** A local LM Studio server (`"lmstudio/<model>"`): `http://127.0.0.1:1234/v1`, no key. */
export function lmstudio(options: OpenAICompatiblePresetOptions = {}): Provider {
  return fromPreset(lmstudioPreset, options)
}
