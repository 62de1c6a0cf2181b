import { buildPlan, type PlanEntry, type PlanOptions } from './build-plan.js'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse } from './chat-response.js'
import { systemClock } from './clock.js'
import { defaults } from './defaults.js'
import { baseURLsOf, isPlainlyValid } from './check-call-options.js'
import { isPlainRequest } from './check-request.js'
import { ConfigError } from './errors.js'
import type { StreamSettings } from './call-settings.js'
import { type ChatStream, createChatStream } from './chat-stream.js'
import { executeComplete } from './execute-complete.js'
import { StreamCall } from './stream-call.js'
import type { Hooks } from './hooks.js'
import { createMemoryHealthStore } from './memory-health-store.js'
import type { CallOptions, ClientOptions } from './options.js'
import { callOptionsSchema, clientOptionsSchema } from './options-schema.js'
import { parseConfig } from './parse-config.js'
import { type Policy, resolvePolicy } from './policy.js'
import type { Provider } from './provider.js'
import { checkJsonCycles } from './json-cycle.js'
import { requestSchema } from './request-schema.js'
import { TargetNames } from './target-names.js'
import { isSecretHeader } from './secret-header.js'

/** A client: calls with fallbacks over the providers it was made with. Safe to share. */
export interface Client {
  /**
   * Sends `request` to its primary target (`request.model`), retrying and
   * falling back along `options.fallbacks` as the policy says.
   *
   * Resolves with the winning attempt's response and every attempt made.
   * Rejects with an `UnderstudyError` of kind `all_failed` when every target
   * failed, `invalid_request` when the request itself was refused, `aborted`,
   * `deadline`, or `config` (thrown before any I/O, naming the option).
   *
   * @example
   * const res = await client.complete(
   *   { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
   *   { fallbacks: ['anthropic/claude-sonnet-4-5'], timeoutMs: 30_000 },
   * )
   */
  complete(request: ChatRequest, options?: CallOptions): Promise<ChatResponse>

  /**
   * Streams the answer to `request`, with the same retries and fallbacks as
   * `complete()` up to the winning attempt's first content: the caller sees
   * nothing of the attempts that failed before it. After it, a failure ends
   * the stream with the partial answer (kind `stream_interrupted`, or
   * `aborted` / `deadline`), unless `midStream: 'continue'` hands it on.
   *
   * Throws a `ConfigError` at once for bad options; nothing is sent until the
   * stream is read.
   *
   * @example
   * for await (const event of client.stream(request, { fallbacks, firstTokenTimeoutMs: 5_000 })) {
   *   if (event.type === 'text') process.stdout.write(event.text)
   * }
   */
  stream(request: ChatRequest, options?: CallOptions): ChatStream
}

/**
 * Makes a client over `options.providers`, with defaults for every call.
 * Checks the options at once: a bad one throws a {@link ConfigError} naming it.
 *
 * @example
 * const client = createClient({ providers: [openai(), anthropic()], retries: 1 })
 */
export function createClient(options: ClientOptions): Client {
  const checked = parseConfig(clientOptionsSchema, options)
  const providers = new Map<string, Provider>()
  checked.providers.forEach((provider, index) => {
    if (providers.has(provider.id)) {
      throw new ConfigError({
        path: `providers[${index}].id`,
        message: `provider "${provider.id}" is given twice`,
      })
    }
    providers.set(provider.id, provider)
  })
  const clock = checked.clock ?? systemClock
  const random = checked.random ?? Math.random
  const clientPolicy = resolvePolicy(checked.policy)
  const clientHooks: readonly Hooks[] = checked.hooks === undefined ? [] : [checked.hooks]
  const healthOptions = checked.health ?? {}
  const health = {
    store: healthOptions.store ?? createMemoryHealthStore(),
    thresholds: Object.freeze({
      minCalls: healthOptions.minCalls ?? defaults.healthMinCalls,
      failureRate: healthOptions.failureRate ?? defaults.healthFailureRate,
      windowMs: healthOptions.windowMs ?? defaults.healthWindowMs,
      cooldownMs: healthOptions.cooldownMs ?? defaults.healthCooldownMs,
    }),
  }

  // Unknown providers in the client's own chains are found now, not at the first call.
  const names = new TargetNames(providers)
  for (const chain of ['fallbacks', 'contextWindowFallbacks', 'contentPolicyFallbacks'] as const) {
    checked[chain]?.forEach((target, index) => {
      const path = `${chain}[${index}]`
      if (typeof target === 'string') names.resolve(target, path)
      else names.resolve(target.model, `${path}.model`)
    })
  }

  // Base URLs the schema has accepted, so the fast check can take them as valid.
  const knownURLs = new Set<string>()
  function checkCallOptions(options: CallOptions): CallOptions {
    if (isPlainlyValid(options, knownURLs)) return options
    const checked = parseConfig(callOptionsSchema, options)
    if (knownURLs.size > maxKnownURLs) knownURLs.clear()
    for (const url of baseURLsOf(checked)) knownURLs.add(url)
    return checked
  }

  /** Checks a call and resolves everything it runs with; throws a ConfigError for bad input. */
  function settle(request: ChatRequest, options: CallOptions | undefined): StreamSettings {
    checkRequest(request)
    const call = options === undefined ? emptyOptions : checkCallOptions(options)
    const plan = buildPlan(request, planOptions(checked, call), names)
    const timeoutMs = call.timeoutMs ?? checked.timeoutMs ?? defaults.timeoutMs
    return {
      plan,
      policy: call.policy === undefined ? clientPolicy : mergePolicy(checked, call),
      clock,
      random,
      deadline: clock.now() + timeoutMs,
      timeoutMs,
      initialDelayMs:
        call.backoff?.initialDelayMs ??
        checked.backoff?.initialDelayMs ??
        defaults.backoffInitialDelayMs,
      maxDelayMs:
        call.backoff?.maxDelayMs ?? checked.backoff?.maxDelayMs ?? defaults.backoffMaxDelayMs,
      signal: call.signal,
      hooks: call.hooks === undefined ? clientHooks : [...clientHooks, call.hooks],
      health: health.thresholds.cooldownMs === 0 ? undefined : health,
      secrets: collectSecrets(plan.entries),
      firstTokenTimeoutMs: call.firstTokenTimeoutMs ?? checked.firstTokenTimeoutMs ?? Infinity,
      idleTimeoutMs: call.idleTimeoutMs ?? checked.idleTimeoutMs ?? Infinity,
      hedgeAfterMs: call.hedgeAfterMs ?? checked.hedgeAfterMs,
      midStream: call.midStream ?? checked.midStream ?? defaults.midStream,
    }
  }

  function complete(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
    try {
      return executeComplete(request, settle(request, options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  function stream(request: ChatRequest, options?: CallOptions): ChatStream {
    return createChatStream(new StreamCall(request, settle(request, options)))
  }

  return Object.freeze({ complete, stream })
}

const emptyOptions: CallOptions = Object.freeze({})

/** Base URLs remembered per client; a client that sees more starts over. */
const maxKnownURLs = 1_000

function planOptions(client: ClientOptions, call: CallOptions): PlanOptions {
  return {
    fallbacks: call.fallbacks ?? client.fallbacks,
    contextWindowFallbacks: call.contextWindowFallbacks ?? client.contextWindowFallbacks,
    contentPolicyFallbacks: call.contentPolicyFallbacks ?? client.contentPolicyFallbacks,
    retries: call.retries ?? client.retries ?? defaults.retries,
    attemptTimeoutMs: call.attemptTimeoutMs ?? client.attemptTimeoutMs,
    apiKey: call.apiKey,
    baseURL: call.baseURL,
    headers: call.headers,
  }
}

function mergePolicy(client: ClientOptions, call: CallOptions): Policy {
  const merged: Record<string, unknown> = { ...client.policy }
  for (const [kind, rule] of Object.entries(call.policy ?? {})) {
    merged[kind] = { ...(client.policy as Record<string, object> | undefined)?.[kind], ...rule }
  }
  return resolvePolicy(merged)
}

/**
 * The request's own shape: one that no target could accept (a role or content
 * no provider knows, a field of the wrong type) is the caller's bug, a
 * ConfigError before any I/O. The fast check spares the schema's cost on
 * every call; the schema decides the rest and names the problem.
 */
function checkRequest(request: ChatRequest): void {
  if (isPlainRequest(request)) return
  parseConfig(requestSchema, request, 'request')
  checkJsonCycles(request)
}

/** Every key and header value the call was given: none of them may show in an error. */
function collectSecrets(entries: readonly PlanEntry[]): readonly string[] {
  const secrets: string[] = []
  for (const entry of entries) {
    if (entry.apiKey !== undefined) secrets.push(entry.apiKey)
    if (entry.headers === undefined) continue
    for (const [name, value] of Object.entries(entry.headers)) {
      if (isSecretHeader(name)) secrets.push(value.replace(/^(Bearer|Basic|Token)\s+/i, ''))
    }
  }
  return secrets
}
