import { fc, it } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { buildPlan, type Plan, type PlanOptions } from './build-plan.js'
import type { ChatParamName, ChatParams, ChatRequest, Message } from './chat-request.js'
import { ConfigError, isUnderstudyError } from './errors.js'
import type { Provider } from './provider.js'
import type { Target, TargetObject } from './target.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { mockProvider } from './test-support/mock-provider.js'
import { sharedObjects } from './test-support/shared-objects.js'
import { TargetNames } from './target-names.js'

const providerIds = ['openai', 'anthropic', 'openrouter'] as const
const providers: ReadonlyMap<string, Provider> = new Map(
  providerIds.map((id) => [id, mockProvider(id)] as const),
)

const noOptions: PlanOptions = Object.freeze({
  fallbacks: undefined,
  contextWindowFallbacks: undefined,
  contentPolicyFallbacks: undefined,
  retries: 1,
  attemptTimeoutMs: undefined,
  apiKey: undefined,
  baseURL: undefined,
  headers: undefined,
})

function request(model: string): ChatRequest {
  return deepFreeze({ model, messages: [{ role: 'user', content: 'hi' }] })
}

function plan(model: string, options: Partial<PlanOptions> = {}): Plan {
  return buildPlan(
    request(model),
    deepFreeze({ ...noOptions, ...options }),
    new TargetNames(providers),
  )
}

/** The ConfigError `run` throws; fails the test when it throws nothing or something else. */
function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError, but nothing was thrown')
}

describe('buildPlan', () => {
  it('splits a target at its first slash: the rest, slashes and all, is the model', () => {
    const { entries } = plan('openrouter/meta-llama/llama-3', {
      fallbacks: ['openai/ft:gpt-4o:acme/x', { model: 'anthropic/claude/sonnet' }],
    })
    expect(entries.map((entry) => [entry.provider.id, entry.model, entry.target])).toEqual([
      ['openrouter', 'meta-llama/llama-3', 'openrouter/meta-llama/llama-3'],
      ['openai', 'ft:gpt-4o:acme/x', 'openai/ft:gpt-4o:acme/x'],
      ['anthropic', 'claude/sonnet', 'anthropic/claude/sonnet'],
    ])
  })

  it('puts entries with the same provider, model, base URL and key in one group', () => {
    const { entries, groupKeys, chains } = plan('openai/gpt-4o', {
      fallbacks: [
        'anthropic/claude',
        { model: 'openai/gpt-4o' },
        { model: 'anthropic/claude', retries: 3 },
      ],
      contextWindowFallbacks: ['openai/gpt-4o'],
    })
    expect(entries.map((entry) => entry.group)).toEqual([0, 1, 0, 1, 0])
    expect(groupKeys).toHaveLength(2)
    expect(chains).toEqual({ main: [0, 1, 2, 3], context_window: [4], content_policy: undefined })
  })

  it('puts the same model with another key or another base URL in another group', () => {
    const { entries, groupKeys } = plan('openai/gpt-4o', {
      fallbacks: [
        { model: 'openai/gpt-4o', apiKey: 'key-b' },
        { model: 'openai/gpt-4o', apiKey: 'key-c' },
        { model: 'openai/gpt-4o', apiKey: 'key-b', baseURL: 'https://backup.example/v1' },
        { model: 'openai/gpt-4o', apiKey: 'key-b' },
      ],
    })
    expect(entries.map((entry) => entry.group)).toEqual([0, 1, 2, 3, 1])
    expect(new Set(groupKeys).size).toBe(4)
    for (const key of groupKeys) expect(key).not.toContain('key-')
  })

  it("keeps the provider's configured base URL and a hash of its key for a target that names neither", () => {
    const configured = (baseURL: string, apiKey: string | undefined): Provider => ({
      ...mockProvider('openai'),
      configuredTarget: () => ({ baseURL, apiKey }),
    })
    const planOf = (provider: Provider): Plan =>
      buildPlan(
        request('openai/gpt-4o'),
        deepFreeze({
          ...noOptions,
          fallbacks: [
            { model: 'openai/gpt-4o', apiKey: 'sk-a' },
            { model: 'openai/gpt-4o', baseURL: 'https://other.example/v1' },
          ],
        }),
        new TargetNames(new Map([['openai', provider]])),
      )
    const keysOf = (provider: Provider): readonly string[] => planOf(provider).groupKeys
    const onOpenAI = planOf(configured('https://api.openai.com/v1', 'sk-a'))
    // A target naming the configured key itself is the same target; one elsewhere is sent no key.
    expect(onOpenAI.entries.map((entry) => entry.group)).toEqual([0, 0, 1])
    const [onA, elsewhere] = onOpenAI.groupKeys
    expect(onA?.split('\u0000').slice(0, 3)).toEqual([
      'openai',
      'gpt-4o',
      'https://api.openai.com/v1',
    ])
    expect(onA).not.toContain('sk-a')
    expect(elsewhere).toBe('openai\u0000gpt-4o\u0000https://other.example/v1\u0000')
    // Another key, or another endpoint, is another health record.
    expect(keysOf(configured('https://api.openai.com/v1', 'sk-b'))[0]).not.toBe(onA)
    expect(keysOf(configured('https://proxy.example/v1', 'sk-a'))[0]).not.toBe(onA)
    expect(keysOf(configured('https://api.openai.com/v1', undefined))[0]).toBe(
      'openai\u0000gpt-4o\u0000https://api.openai.com/v1\u0000',
    )
  })

  it('names a target as if its provider had no configured target when configuredTarget throws or answers nonsense', () => {
    const odd = (configuredTarget: () => unknown): Provider =>
      ({ ...mockProvider('openai'), configuredTarget }) as Provider
    for (const provider of [
      odd(() => {
        throw new Error('a provider bug')
      }),
      odd(() => undefined),
      odd(() => ({ baseURL: 42 })),
      odd(() => ({ baseURL: 'https://api.openai.com/v1', apiKey: 7 })),
    ]) {
      const { groupKeys } = buildPlan(
        request('openai/gpt-4o'),
        noOptions,
        new TargetNames(new Map([['openai', provider]])),
      )
      expect(groupKeys).toEqual(['openai\u0000gpt-4o\u0000\u0000'])
    }
  })

  it("gives the call's apiKey, baseURL and headers to the primary only", () => {
    const headers = { 'x-team': 'a' }
    const { entries } = plan('openai/gpt-4o', {
      apiKey: 'call-key',
      baseURL: 'https://primary.example/v1',
      headers,
      fallbacks: ['openai/gpt-4o', { model: 'anthropic/claude', apiKey: 'own-key' }],
    })
    expect(entries.map(({ apiKey, baseURL, headers }) => ({ apiKey, baseURL, headers }))).toEqual([
      { apiKey: 'call-key', baseURL: 'https://primary.example/v1', headers: { 'x-team': 'a' } },
      { apiKey: undefined, baseURL: undefined, headers: undefined },
      { apiKey: 'own-key', baseURL: undefined, headers: undefined },
    ])
    expect(entries[0]?.headers).not.toBe(headers)
    // The same model without the call's key is another target.
    expect(entries[1]?.group).not.toBe(entries[0]?.group)
  })

  it("takes a target's retries and attemptTimeoutMs over the call's, and 0 retries as one attempt", () => {
    const { entries } = plan('openai/gpt-4o', {
      retries: 2,
      attemptTimeoutMs: 5_000,
      fallbacks: [
        { model: 'anthropic/claude', retries: 0, attemptTimeoutMs: 1_000 },
        'openai/mini',
      ],
    })
    expect(entries.map((entry) => [entry.maxAttempts, entry.attemptTimeoutMs])).toEqual([
      [3, 5_000],
      [1, 1_000],
      [3, 5_000],
    ])
    expect(plan('openai/gpt-4o').entries[0]?.attemptTimeoutMs).toBe(Infinity)
  })

  // One TargetNames per client lives across its calls: what it remembers
  // must never make a plan differ from the one a fresh client builds.
  let sharedNames: TargetNames | undefined
  it.prop([fc.array(inputsArbitrary(), { minLength: 1, maxLength: 8 })], { numRuns: 200 })(
    "builds with a client's remembered names the plans that fresh names build",
    (calls) => {
      sharedNames ??= new TargetNames(configuredProviders)
      for (const { request, options } of calls) {
        const remembered = buildPlan(request, options, sharedNames)
        const fresh = buildPlan(request, options, new TargetNames(configuredProviders))
        expect(remembered.groupKeys).toEqual(fresh.groupKeys)
        expect(remembered.entries).toEqual(fresh.entries)
        expect(remembered.chains).toEqual(fresh.chains)
      }
    },
  )

  it('starts over past its bound, and keys still tell every key apart', () => {
    const names = new TargetNames(providers)
    const keyOf = (apiKey: string): string | undefined =>
      buildPlan(request('openai/gpt-4o'), { ...noOptions, apiKey }, names).groupKeys[0]
    const first = keyOf('sk-0')
    const seen = new Set<string | undefined>([first])
    for (let i = 1; i < 2_500; i++) seen.add(keyOf(`sk-${i}`))
    expect(seen.size).toBe(2_500)
    expect(keyOf('sk-0')).toBe(first)
  })

  it('names the path of an unknown provider: the string target, the object’s model, or request.model', () => {
    expect(
      configError(() => plan('openai/gpt-4o', { fallbacks: ['openai/mini', 'mistral/large'] }))
        .path,
    ).toBe('fallbacks[1]')
    expect(
      configError(() =>
        plan('openai/gpt-4o', { fallbacks: ['openai/mini', { model: 'mistral/large' }] }),
      ).path,
    ).toBe('fallbacks[1].model')
    expect(configError(() => plan('mistral/large')).path).toBe('request.model')
    expect(
      configError(() => plan('openai/gpt-4o', { contextWindowFallbacks: ['mistral/large'] })).path,
    ).toBe('contextWindowFallbacks[0]')
    expect(
      configError(() =>
        plan('openai/gpt-4o', { contentPolicyFallbacks: ['openai/mini', { model: 'mistral/x' }] }),
      ).path,
    ).toBe('contentPolicyFallbacks[1].model')
    const error = configError(() => plan('openai/gpt-4o', { fallbacks: ['mistral/large'] }))
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(error.message).toContain('"mistral"')
  })

  it.prop([inputsArbitrary()], { numRuns: 200 })(
    'leaves deep-frozen inputs unchanged and shares no object with them',
    ({ request, options }) => {
      const before = structuredClone({ request, options })
      deepFreeze(request)
      deepFreeze(options)
      const result = buildPlan(request, options, new TargetNames(providers))
      expect({ request, options }).toEqual(before)
      expect(sharedObjects(result, { request, options })).toEqual([])
      // Headers and params are the entry's own copies, equal to what the caller gave.
      const targets = chainTargets(request, options)
      result.entries.forEach((entry, index) => {
        const target = targets[index]
        const own = typeof target === 'object' ? target : undefined
        expect(entry.params).toEqual(own?.params)
        expect(entry.unset).toEqual(own?.unset)
        expect(entry.headers).toEqual(index === 0 ? options.headers : own?.headers)
      })
    },
  )

  it.prop([inputsArbitrary(), fc.boolean()], { numRuns: 200 })(
    'groups two entries exactly when their provider, model, base URL and key are equal',
    ({ request, options }, configured) => {
      const { entries, groupKeys } = buildPlan(
        request,
        options,
        new TargetNames(configured ? configuredProviders : providers),
      )
      // Where each entry's calls go: its own base URL and key, else its provider's (rule 2).
      const identity = (index: number): string => {
        const entry = entries[index]
        const home = entry?.provider.configuredTarget?.()
        const baseURL = entry?.baseURL ?? home?.baseURL
        const apiKey = entry?.apiKey ?? (entry?.baseURL === undefined ? home?.apiKey : undefined)
        return JSON.stringify([entry?.provider.id, entry?.model, baseURL, apiKey])
      }
      for (let i = 0; i < entries.length; i++) {
        for (let j = 0; j < entries.length; j++) {
          expect(entries[i]?.group === entries[j]?.group).toBe(identity(i) === identity(j))
        }
      }
      // Groups are numbered in order of first appearance, one key each.
      let next = 0
      for (const entry of entries) {
        expect(entry.group).toBeLessThanOrEqual(next)
        if (entry.group === next) next++
      }
      expect(groupKeys).toHaveLength(next)
      expect(new Set(groupKeys).size).toBe(next)
    },
  )

  it.prop([inputsArbitrary()], { numRuns: 200 })(
    "keeps each chain in the caller's order with each target's own settings",
    ({ request, options }) => {
      const { entries, chains } = buildPlan(request, options, new TargetNames(providers))
      const targets = chainTargets(request, options)
      expect(entries).toHaveLength(targets.length)
      const main = 1 + (options.fallbacks?.length ?? 0)
      const contextWindow = options.contextWindowFallbacks?.length
      const contentPolicy = options.contentPolicyFallbacks?.length
      expect(chains.main).toEqual(range(0, main))
      expect(chains.context_window).toEqual(
        contextWindow === undefined ? undefined : range(main, contextWindow),
      )
      expect(chains.content_policy).toEqual(
        contentPolicy === undefined ? undefined : range(main + (contextWindow ?? 0), contentPolicy),
      )
      entries.forEach((entry, index) => {
        const target = targets[index] as Target
        const own = typeof target === 'object' ? target : undefined
        const name = own?.model ?? (target as string)
        expect(entry.target).toBe(name)
        expect(`${entry.provider.id}/${entry.model}`).toBe(name)
        expect(entry.apiKey).toBe(index === 0 ? options.apiKey : own?.apiKey)
        expect(entry.baseURL).toBe(index === 0 ? options.baseURL : own?.baseURL)
        expect(entry.maxAttempts).toBe(1 + (own?.retries ?? options.retries))
        expect(entry.attemptTimeoutMs).toBe(
          own?.attemptTimeoutMs ?? options.attemptTimeoutMs ?? Infinity,
        )
      })
    },
  )

  it.prop([inputsArbitrary(), fc.nat(), fc.boolean()], { numRuns: 200 })(
    'names the first unknown provider by its path in the chain',
    ({ request, options }, at, asObject) => {
      const fallbacks = options.fallbacks ?? []
      const index = at % (fallbacks.length + 1)
      const unknown: Target = asObject ? { model: 'mistral/large' } : 'mistral/large'
      const withUnknown = [...fallbacks.slice(0, index), unknown, ...fallbacks.slice(index)]
      const error = configError(() =>
        buildPlan(
          request,
          deepFreeze({ ...options, fallbacks: withUnknown }),
          new TargetNames(providers),
        ),
      )
      expect(error.path).toBe(asObject ? `fallbacks[${index}].model` : `fallbacks[${index}]`)
    },
  )
})

function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, index) => start + index)
}

/** Every target in plan order: the primary, fallbacks, then the two special chains. */
function chainTargets(request: ChatRequest, options: PlanOptions): Target[] {
  return [
    request.model,
    ...(options.fallbacks ?? []),
    ...(options.contextWindowFallbacks ?? []),
    ...(options.contentPolicyFallbacks ?? []),
  ]
}

const models = ['gpt-4o', 'mini', 'meta-llama/llama-3']
const keys = ['key-a', 'key-b']
const urls = ['https://a.example/v1', 'https://b.example/v1']

/**
 * The same providers, telling core where a target that names neither base
 * URL nor key goes: one of the URLs and keys targets may name themselves,
 * a URL with no key, and none (openrouter).
 */
const configuredProviders: ReadonlyMap<string, Provider> = new Map([
  [
    'openai',
    {
      ...mockProvider('openai'),
      configuredTarget: () => ({ baseURL: urls[0] as string, apiKey: keys[0] }),
    },
  ],
  [
    'anthropic',
    {
      ...mockProvider('anthropic'),
      configuredTarget: () => ({ baseURL: urls[1] as string, apiKey: undefined }),
    },
  ],
  ['openrouter', mockProvider('openrouter')],
])

function modelArbitrary(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...providerIds), fc.constantFrom(...models))
    .map(([provider, model]) => `${provider}/${model}`)
}

function headersArbitrary(): fc.Arbitrary<Record<string, string>> {
  return fc.dictionary(fc.constantFrom('x-team', 'authorization', 'x-trace'), fc.string(), {
    maxKeys: 2,
  })
}

function paramsArbitrary(): fc.Arbitrary<ChatParams> {
  return fc.record(
    {
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      maxTokens: fc.integer({ min: 1, max: 4_096 }),
      stop: fc.array(fc.string(), { maxLength: 2 }),
      tools: fc.array(
        fc.record({
          name: fc.constantFrom('search', 'fetch'),
          parameters: fc.constant({ type: 'object', properties: { q: { type: 'string' } } }),
        }),
        { maxLength: 2 },
      ),
      providerOptions: fc.constant({ openai: { logprobs: true, nested: { list: [1, 2] } } }),
    },
    { requiredKeys: [] },
  )
}

const paramNames: readonly ChatParamName[] = ['temperature', 'maxTokens', 'stop', 'tools', 'seed']

function targetArbitrary(): fc.Arbitrary<Target> {
  const object: fc.Arbitrary<TargetObject> = fc.record(
    {
      model: modelArbitrary(),
      apiKey: fc.constantFrom(...keys),
      baseURL: fc.constantFrom(...urls),
      headers: headersArbitrary(),
      params: paramsArbitrary(),
      unset: fc.subarray([...paramNames]),
      retries: fc.integer({ min: 0, max: 3 }),
      attemptTimeoutMs: fc.integer({ min: 1, max: 60_000 }),
    },
    { requiredKeys: ['model'] },
  )
  return fc.oneof(modelArbitrary(), object)
}

function chainArbitrary(): fc.Arbitrary<Target[] | undefined> {
  return fc.option(fc.array(targetArbitrary(), { maxLength: 5 }), { nil: undefined })
}

function messageArbitrary(): fc.Arbitrary<Message> {
  return fc.oneof(
    fc.record({ role: fc.constant('system' as const), content: fc.string() }),
    fc.record({
      role: fc.constant('user' as const),
      content: fc.oneof(
        fc.string(),
        fc.array(fc.record({ type: fc.constant('text' as const), text: fc.string() }), {
          maxLength: 2,
        }),
      ),
    }),
    fc.record({ role: fc.constant('assistant' as const), content: fc.string() }),
  )
}

interface Inputs {
  readonly request: ChatRequest
  readonly options: PlanOptions
}

function inputsArbitrary(): fc.Arbitrary<Inputs> {
  return fc.record({
    request: fc
      .tuple(
        modelArbitrary(),
        fc.array(messageArbitrary(), { minLength: 1, maxLength: 3 }),
        paramsArbitrary(),
      )
      .map(([model, messages, params]): ChatRequest => ({ ...params, model, messages })),
    options: fc.record({
      fallbacks: chainArbitrary(),
      contextWindowFallbacks: chainArbitrary(),
      contentPolicyFallbacks: chainArbitrary(),
      retries: fc.integer({ min: 0, max: 3 }),
      attemptTimeoutMs: fc.option(fc.integer({ min: 1, max: 60_000 }), { nil: undefined }),
      apiKey: fc.option(fc.constantFrom(...keys), { nil: undefined }),
      baseURL: fc.option(fc.constantFrom(...urls), { nil: undefined }),
      headers: fc.option(headersArbitrary(), { nil: undefined }),
    }),
  })
}
