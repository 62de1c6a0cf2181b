import type {
  BackoffOptions,
  ChatParams,
  HealthOptions,
  MidStream,
  PolicyOverrides,
  TargetObject,
} from '@understudy/core'
import { clientOptionsSchema } from '@understudy/core'
import * as z from 'zod'
import { callOption, targetField, targetObjectSchema, targetStringSchema } from './core-schemas.js'
import { providerTypes } from './provider-registry.js'

/** The name of an environment variable: letters, digits and `_`, not starting with a digit. */
export const envNameSchema: z.ZodString = z
  .string({ message: 'expected the name of an environment variable' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: 'expected the name of an environment variable',
  })

/** A target object in a file: core's, plus `apiKeyEnv`, the variable its key is read from. */
const fileTargetObjectSchema = targetObjectSchema.extend({ apiKeyEnv: envNameSchema.optional() })

const fileTargetSchema = z.union([targetStringSchema, fileTargetObjectSchema], {
  message: 'expected a "provider/model" string or a target object',
})

const chainSchema = z.array(fileTargetSchema, { message: 'expected an array of targets' })

/**
 * One provider of the file. `type` (default: the entry's name) picks the
 * factory; `apiKeyEnv` names the variable its key is read from; everything
 * else goes to the factory, which checks it (an unknown option is an error
 * there, naming the option meant), so the object is loose here.
 */
const providerEntrySchema = z.looseObject({
  type: z.enum(providerTypes as [string, ...string[]]).optional(),
  apiKeyEnv: envNameSchema.optional(),
  apiKey: targetField('apiKey'),
  baseURL: targetField('baseURL'),
  headers: targetField('headers'),
})

/** Core's health options, without `store`: a file cannot hold one. */
const healthFileSchema: z.ZodType = (() => {
  const health = clientOptionsSchema instanceof z.ZodObject ? clientOptionsSchema.shape.health : 0
  const inner = health instanceof z.ZodOptional ? health.unwrap() : health
  if (!(inner instanceof z.ZodObject))
    throw new TypeError('clientOptionsSchema.health: expected a zod object')
  return inner.omit({ store: true }).optional()
})()

/** A provider's name in a file, which targets use as their prefix: no `/`, no space. */
const providerNameSchema = z
  .string()
  .regex(/^[^/\s]+$/, { message: 'expected a provider name without "/" or spaces' })

/**
 * A config file, as `understudy chat --config` reads it (JSON or YAML).
 * Built from core's schemas, so the file takes exactly what the library
 * takes, checked the same way; `config.schema.json` is generated from it.
 */
export const configFileSchema: z.ZodObject = z.strictObject({
  $schema: z
    .string()
    .optional()
    .meta({ description: 'The JSON Schema of this file, for editors.' }),
  providers: z.record(providerNameSchema, providerEntrySchema).optional().meta({
    description:
      "Providers by name (the prefix of their targets). `type` picks the factory (default: the name); `apiKeyEnv` names the variable holding the key; other fields are the factory's options.",
  }),
  model: targetStringSchema
    .optional()
    .meta({ description: 'The primary target, "provider/model"; `--model` wins over it.' }),
  system: z
    .string({ message: 'expected the text of a system message' })
    .optional()
    .meta({ description: 'A system message sent before the prompt.' }),
  params: targetField('params').meta({
    description: 'Request fields for every target: temperature, maxTokens, topP, stop, seed…',
  }),
  fallbacks: chainSchema.optional().meta({
    description: 'The targets tried in order when the primary fails; `--fallback` replaces them.',
  }),
  contextWindowFallbacks: chainSchema.optional().meta({
    description: 'The chain a prompt too long for its model moves to instead of `fallbacks`.',
  }),
  contentPolicyFallbacks: chainSchema
    .optional()
    .meta({ description: 'The chain a refused prompt moves to instead of `fallbacks`.' }),
  retries: callOption('retries').meta({
    description: 'Retries per target; 0 means one attempt each. `--retries` wins over it.',
  }),
  timeoutMs: callOption('timeoutMs').meta({
    description: 'The whole call, in ms, every attempt included. `--timeout` wins over it.',
  }),
  attemptTimeoutMs: callOption('attemptTimeoutMs').meta({
    description: 'The longest one attempt may take, in ms.',
  }),
  firstTokenTimeoutMs: callOption('firstTokenTimeoutMs').meta({
    description: "With --stream: from an attempt's request to its first content, in ms.",
  }),
  idleTimeoutMs: callOption('idleTimeoutMs').meta({
    description: 'With --stream: the longest gap between content after the first, in ms.',
  }),
  hedgeAfterMs: callOption('hedgeAfterMs').meta({
    description:
      'With --stream: start the next target too when the running one has sent nothing for this long, in ms.',
  }),
  midStream: callOption('midStream').meta({
    description:
      'With --stream: what a failure after the first content does: "fail" or "continue" on the next target.',
  }),
  backoff: callOption('backoff').meta({
    description: 'The wait between retries of one target, in ms.',
  }),
  policy: callOption('policy').meta({
    description:
      'Per error kind, whether it retries and falls back: { invalid_request: { fallback: true } }.',
  }),
  health: healthFileSchema.meta({
    description: 'Cooldowns: when a failing target is skipped, and for how long.',
  }),
})

/** A target in a file: core's target, whose key may come from a variable instead. */
export type FileTarget = string | (TargetObject & { readonly apiKeyEnv?: string })

/** One provider of a file: its factory's options, with `type` and `apiKeyEnv`. */
export interface ProviderEntryOptions {
  readonly type?: string
  readonly apiKeyEnv?: string
  readonly apiKey?: string
  readonly [option: string]: unknown
}

/**
 * A config file once checked. The fields' values are checked by core's own
 * schemas, and typed with core's types.
 */
export interface ConfigFile {
  readonly providers?: Readonly<Record<string, ProviderEntryOptions>>
  readonly model?: string
  readonly system?: string
  readonly params?: ChatParams
  readonly fallbacks?: readonly FileTarget[]
  readonly contextWindowFallbacks?: readonly FileTarget[]
  readonly contentPolicyFallbacks?: readonly FileTarget[]
  readonly retries?: number
  readonly timeoutMs?: number
  readonly attemptTimeoutMs?: number
  readonly firstTokenTimeoutMs?: number
  readonly idleTimeoutMs?: number
  readonly hedgeAfterMs?: number
  readonly midStream?: MidStream
  readonly backoff?: BackoffOptions
  readonly policy?: PolicyOverrides
  readonly health?: Omit<HealthOptions, 'store'>
}
