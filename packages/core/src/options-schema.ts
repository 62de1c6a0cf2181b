import * as z from 'zod'
import type { ChatParamName, ChatParams } from './chat-request.js'
import type { Clock } from './clock.js'
import type { HealthStore } from './health-store.js'
import type { Hooks } from './hooks.js'
import type { BackoffOptions, CallOptions, ClientOptions, HealthOptions } from './options.js'
import { type PolicyKind, type PolicyOverrides, policyKinds } from './policy.js'
import type { Provider } from './provider.js'
import type { Target, TargetObject } from './target.js'

const isFunction = (value: unknown): boolean => typeof value === 'function'

const fn = <T>(what: string): z.ZodType<T> =>
  z.custom<T>(isFunction, { message: `expected ${what}` })

const timeoutMs = z.custom<number>(
  (value) => typeof value === 'number' && value > 0 && !Number.isNaN(value),
  { message: 'expected a positive number of ms, or Infinity' },
)

const delayMs = z
  .number({ message: 'expected a number of ms' })
  .min(0, { message: 'expected 0 or more ms' })

const retries = z
  .number({ message: 'expected a whole number of retries' })
  .int({ message: 'expected a whole number of retries' })
  .min(0, { message: 'expected 0 or more retries' })

/** `"provider/model"`: a non-empty provider, a slash, a non-empty model. */
export const targetStringSchema: z.ZodType<string, string> = z
  .string({ message: 'expected a "provider/model" string' })
  .regex(/^[^/\s]+\/\S/, { message: 'expected "provider/model"' })

/**
 * A base URL: `http:` or `https:` only. Providers send keys to it, and no
 * transport here speaks another scheme, so `ftp:` or `file:` is a config
 * error before any I/O rather than a failed attempt. One message for both
 * "no URL" and "another scheme", as provider factories word it.
 */
const baseURLSchema = z.url({ protocol: /^https?$/, message: 'expected an http: or https: URL' })

const headersSchema = z.record(z.string(), z.string({ message: 'expected a string header value' }))

const paramNames = [
  'tools',
  'toolChoice',
  'responseFormat',
  'temperature',
  'topP',
  'topK',
  'maxTokens',
  'stop',
  'seed',
  'user',
  'providerOptions',
] as const satisfies readonly ChatParamName[]

/**
 * The schema of each request field a target's `params` may set, by name. A
 * request takes the same fields, so `requestSchema` is built on this too.
 */
export const chatParamsShape: { readonly [name in ChatParamName]-?: z.ZodType } = {
  tools: z
    .array(
      z.object({
        name: z.string(),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.json()),
      }),
    )
    .readonly()
    .optional(),
  toolChoice: z
    .union([z.enum(['auto', 'none', 'required']), z.object({ name: z.string() })], {
      message: 'expected "auto", "none", "required" or { name }',
    })
    .optional(),
  responseFormat: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json') }),
      z.object({
        type: z.literal('json_schema'),
        name: z.string(),
        schema: z.record(z.string(), z.json()),
        strict: z.boolean().optional(),
      }),
    ])
    .optional(),
  temperature: z
    .number({ message: 'expected a number, 0 or more' })
    .min(0, { message: 'expected a number, 0 or more' })
    .optional(),
  topP: z
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .optional(),
  topK: z
    .number({ message: 'expected a whole number, 1 or more' })
    .int({ message: 'expected a whole number, 1 or more' })
    .positive({ message: 'expected a whole number, 1 or more' })
    .optional(),
  maxTokens: z
    .number({ message: 'expected a whole number of tokens, 1 or more' })
    .int({ message: 'expected a whole number of tokens, 1 or more' })
    .positive({ message: 'expected a whole number of tokens, 1 or more' })
    .optional(),
  stop: z.array(z.string()).readonly().optional(),
  seed: z
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .optional(),
  user: z.string().optional(),
  providerOptions: z.record(z.string(), z.record(z.string(), z.json())).optional(),
}

/** The request fields a target's `params` may set. */
export const chatParamsSchema: z.ZodType<ChatParams, ChatParams> = z.strictObject(
  chatParamsShape,
) as z.ZodType<ChatParams, ChatParams>

/** A target object: `{ model, apiKey?, baseURL?, headers?, params?, unset?, retries?, attemptTimeoutMs? }`. */
export const targetObjectSchema: z.ZodType<TargetObject, TargetObject> = z.strictObject({
  model: targetStringSchema,
  apiKey: z
    .string({ message: 'expected a string key' })
    .min(1, { message: 'expected a non-empty key' })
    .optional(),
  baseURL: baseURLSchema.optional(),
  headers: headersSchema.optional(),
  params: chatParamsSchema.optional(),
  unset: z.array(z.enum(paramNames)).readonly().optional(),
  retries: retries.optional(),
  attemptTimeoutMs: timeoutMs.optional(),
}) as z.ZodType<TargetObject, TargetObject>

/** One entry of a chain: `"provider/model"` or a target object. */
export const targetSchema: z.ZodType<Target, Target> = z.union(
  [targetStringSchema, targetObjectSchema],
  { message: 'expected a "provider/model" string or a target object' },
)

const chainSchema = z.array(targetSchema, { message: 'expected an array of targets' }).readonly()

const kindRuleSchema = z.strictObject({
  retry: z.boolean().optional(),
  fallback: z.boolean().optional(),
})

/** Per-kind overrides of the default policy. */
export const policySchema: z.ZodType<PolicyOverrides, PolicyOverrides> = z.strictObject(
  Object.fromEntries(policyKinds.map((kind) => [kind, kindRuleSchema.optional()])) as Record<
    PolicyKind,
    z.ZodOptional<typeof kindRuleSchema>
  >,
) as z.ZodType<PolicyOverrides, PolicyOverrides>

/** The call's observers: each one a function. */
export const hooksSchema: z.ZodType<Hooks, Hooks> = z.strictObject({
  onAttempt: fn<Hooks['onAttempt']>('a function').optional(),
  onRetry: fn<Hooks['onRetry']>('a function').optional(),
  onFallback: fn<Hooks['onFallback']>('a function').optional(),
  onSuccess: fn<Hooks['onSuccess']>('a function').optional(),
  onFailure: fn<Hooks['onFailure']>('a function').optional(),
  onHookError: fn<Hooks['onHookError']>('a function').optional(),
}) as z.ZodType<Hooks, Hooks>

/** Backoff between retries of one target. */
export const backoffSchema: z.ZodType<BackoffOptions, BackoffOptions> = z.strictObject({
  initialDelayMs: delayMs.optional(),
  maxDelayMs: delayMs.optional(),
}) as z.ZodType<BackoffOptions, BackoffOptions>

const callDefaultsShape = {
  fallbacks: chainSchema.optional(),
  contextWindowFallbacks: chainSchema.optional(),
  contentPolicyFallbacks: chainSchema.optional(),
  retries: retries.optional(),
  timeoutMs: timeoutMs.optional(),
  attemptTimeoutMs: timeoutMs.optional(),
  backoff: backoffSchema.optional(),
  policy: policySchema.optional(),
  hooks: hooksSchema.optional(),
  firstTokenTimeoutMs: timeoutMs.optional(),
  idleTimeoutMs: timeoutMs.optional(),
  hedgeAfterMs: delayMs.optional(),
  midStream: z.enum(['fail', 'continue'], { message: `expected 'fail' or 'continue'` }).optional(),
}

const abortSignal = z.custom<AbortSignal>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'aborted') === 'boolean' &&
    isFunction(Reflect.get(value, 'addEventListener')),
  { message: 'expected an AbortSignal' },
)

/** The options of one call. Exported so apps can check config files with it. */
export const callOptionsSchema: z.ZodType<CallOptions, CallOptions> = z.strictObject({
  ...callDefaultsShape,
  signal: abortSignal.optional(),
  apiKey: z
    .string({ message: 'expected a string key' })
    .min(1, { message: 'expected a non-empty key' })
    .optional(),
  baseURL: baseURLSchema.optional(),
  headers: headersSchema.optional(),
}) as z.ZodType<CallOptions, CallOptions>

const providerSchema = z.custom<Provider>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'id') === 'string' &&
    isFunction(Reflect.get(value, 'complete')) &&
    isFunction(Reflect.get(value, 'stream')),
  { message: 'expected a provider: { id, complete(), stream() }' },
)

const clockSchema = z.custom<Clock>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    isFunction(Reflect.get(value, 'now')) &&
    isFunction(Reflect.get(value, 'setTimeout')) &&
    isFunction(Reflect.get(value, 'clearTimeout')),
  { message: 'expected a clock: { now(), setTimeout(), clearTimeout() }' },
)

const healthStoreSchema = z.custom<HealthStore>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    isFunction(Reflect.get(value, 'cooldowns')) &&
    isFunction(Reflect.get(value, 'record')),
  { message: 'expected a health store: { cooldowns(), record() }' },
)

/** Cooldown settings and store. */
export const healthOptionsSchema: z.ZodType<HealthOptions, HealthOptions> = z.strictObject({
  store: healthStoreSchema.optional(),
  minCalls: z.number().int({ message: 'expected a whole number of calls' }).min(0).optional(),
  failureRate: z
    .number()
    .gt(0, { message: 'expected a rate above 0 and at most 1' })
    .max(1, { message: 'expected a rate above 0 and at most 1' })
    .optional(),
  windowMs: timeoutMs.optional(),
  cooldownMs: delayMs.optional(),
}) as z.ZodType<HealthOptions, HealthOptions>

/** The options of `createClient`. */
export const clientOptionsSchema: z.ZodType<ClientOptions, ClientOptions> = z.strictObject({
  ...callDefaultsShape,
  providers: z
    .array(providerSchema, { message: 'expected an array of providers' })
    .min(1, { message: 'expected at least one provider' })
    .readonly(),
  clock: clockSchema.optional(),
  random: fn<() => number>('a function returning a number in [0, 1)').optional(),
  health: healthOptionsSchema.optional(),
}) as z.ZodType<ClientOptions, ClientOptions>
