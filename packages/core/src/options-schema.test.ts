import { describe, expect, it } from 'vitest'
import type { ChatParams, ChatRequest } from './chat-request.js'
import { createClient } from './create-client.js'
import { ConfigError, isUnderstudyError } from './errors.js'
import type { Hooks } from './hooks.js'
import type {
  BackoffOptions,
  CallDefaults,
  CallOptions,
  ClientOptions,
  HealthOptions,
} from './options.js'
import {
  backoffSchema,
  callOptionsSchema,
  chatParamsSchema,
  clientOptionsSchema,
  healthOptionsSchema,
  hooksSchema,
  policySchema,
  targetObjectSchema,
} from './options-schema.js'
import type { PolicyKind } from './policy.js'
import type { TargetObject } from './target.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { type MockProvider, mockProvider } from './test-support/mock-provider.js'

const request: ChatRequest = deepFreeze({
  model: 'openai/gpt-4o',
  messages: [{ role: 'user', content: 'hi' }],
})

const configured = 'configured: "openai", "anthropic"'

/** A ConfigError, checked to be one: kind `config`, branded, with a path. */
function asConfigError(error: unknown): ConfigError {
  expect(error).toBeInstanceOf(ConfigError)
  expect(isUnderstudyError(error, 'config')).toBe(true)
  return error as ConfigError
}

function expectNoCalls(mocks: readonly MockProvider[]): void {
  for (const mock of mocks) expect(mock.calls).toEqual([])
}

/** The error of `client.complete(request, options)` on a fresh client; neither provider may be called. */
async function completeError(call: {
  readonly request?: unknown
  readonly options?: unknown
}): Promise<ConfigError> {
  const mocks = [mockProvider('openai'), mockProvider('anthropic')]
  const client = createClient({ providers: mocks })
  const input = deepFreeze({
    request: 'request' in call ? call.request : request,
    options: call.options,
  })
  let promise: Promise<unknown> = Promise.resolve()
  // A config error rejects the promise; complete() itself never throws.
  expect(() => {
    promise = client.complete(
      input.request as ChatRequest,
      input.options as CallOptions | undefined,
    )
  }).not.toThrow()
  const error = await promise.then(
    () => new Error('expected the call to fail with a ConfigError, but it succeeded'),
    (reason: unknown) => reason,
  )
  expectNoCalls(mocks)
  return asConfigError(error)
}

/** The error `createClient(options)` throws, with these providers unless the options name their own. */
function createError(options: Readonly<Record<string, unknown>>): ConfigError {
  const mocks = [mockProvider('openai'), mockProvider('anthropic')]
  const input = deepFreeze({ providers: mocks, ...options })
  try {
    createClient(input as ClientOptions)
  } catch (error) {
    expectNoCalls(mocks)
    return asConfigError(error)
  }
  throw new Error('expected createClient to throw a ConfigError')
}

interface Case {
  /** The behaviour, as the test's name. */
  readonly behaviour: string
  readonly request?: unknown
  readonly options?: unknown
  readonly path: string
  readonly message: string
}

/** A message names the path, what was expected and what was received. */
function expectPathAndMessage(error: ConfigError, expected: Case): void {
  expect(error.kind).toBe('config')
  expect(error.path).toBe(expected.path)
  expect(error.message).toBe(expected.message)
  expect(error.message.startsWith(`${expected.path}: `)).toBe(true)
  expect(error.message).toMatch(/expected|unknown provider|given twice/)
  expect(error.message).toMatch(/received|in "|given twice/)
}

describe('client.complete, with bad options', () => {
  const cases: readonly Case[] = [
    {
      behaviour: 'rejects an unknown provider prefix in request.model',
      request: { ...request, model: 'mistral/large' },
      path: 'request.model',
      message: `request.model: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in a fallback string',
      options: { fallbacks: ['anthropic/claude-sonnet-4-5', 'mistral/large'] },
      path: 'fallbacks[1]',
      message: `fallbacks[1]: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in a fallback object',
      options: { fallbacks: [{ model: 'mistral/large' }] },
      path: 'fallbacks[0].model',
      message: `fallbacks[0].model: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in contextWindowFallbacks',
      options: { contextWindowFallbacks: ['openai/gpt-4.1', 'mistral/large'] },
      path: 'contextWindowFallbacks[1]',
      message: `contextWindowFallbacks[1]: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in contentPolicyFallbacks',
      options: { contentPolicyFallbacks: [{ model: 'mistral/large' }] },
      path: 'contentPolicyFallbacks[0].model',
      message: `contentPolicyFallbacks[0].model: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects a request.model with an empty model',
      request: { ...request, model: 'openai/' },
      path: 'request.model',
      message: 'request.model: expected "provider/model"; received "openai/"',
    },
    {
      behaviour: 'rejects an empty request.model',
      request: { ...request, model: '' },
      path: 'request.model',
      message: 'request.model: expected "provider/model"; received ""',
    },
    {
      behaviour: 'rejects a request.model without a slash',
      request: { ...request, model: 'gpt-4o' },
      path: 'request.model',
      message: 'request.model: expected "provider/model"; received "gpt-4o"',
    },
    {
      behaviour: 'rejects a fallback string with an empty model',
      options: { fallbacks: ['openai/'] },
      path: 'fallbacks[0]',
      message: 'fallbacks[0]: expected "provider/model"; received "openai/"',
    },
    {
      behaviour: 'rejects an empty fallback string',
      options: { fallbacks: ['anthropic/claude-sonnet-4-5', ''] },
      path: 'fallbacks[1]',
      message: 'fallbacks[1]: expected "provider/model"; received ""',
    },
    {
      behaviour: 'rejects a fallback string without a slash',
      options: { fallbacks: ['gpt-4o'] },
      path: 'fallbacks[0]',
      message: 'fallbacks[0]: expected "provider/model"; received "gpt-4o"',
    },
    {
      behaviour: 'rejects a fallback object whose model has no slash',
      options: { fallbacks: [{ model: 'gpt-4o' }] },
      path: 'fallbacks[0].model',
      message: 'fallbacks[0].model: expected "provider/model"; received "gpt-4o"',
    },
    {
      behaviour: 'rejects a fallback object whose model is empty after the prefix',
      options: { fallbacks: [{ model: 'openai/' }] },
      path: 'fallbacks[0].model',
      message: 'fallbacks[0].model: expected "provider/model"; received "openai/"',
    },
    {
      behaviour: 'rejects negative retries',
      options: { retries: -1 },
      path: 'retries',
      message: 'retries: expected 0 or more retries; received -1',
    },
    {
      behaviour: 'rejects retries that are not a whole number',
      options: { retries: 1.5 },
      path: 'retries',
      message: 'retries: expected a whole number of retries; received 1.5',
    },
    {
      behaviour: "rejects a target's negative retries",
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', retries: -1 }] },
      path: 'fallbacks[0].retries',
      message: 'fallbacks[0].retries: expected 0 or more retries; received -1',
    },
    {
      behaviour: 'rejects a fallback that is a number',
      options: { fallbacks: ['anthropic/claude-sonnet-4-5', 42] },
      path: 'fallbacks[1]',
      message: 'fallbacks[1]: expected a "provider/model" string or a target object; received 42',
    },
    {
      behaviour: 'rejects a fallback that is null',
      options: { fallbacks: [null] },
      path: 'fallbacks[0]',
      message: 'fallbacks[0]: expected a "provider/model" string or a target object; received null',
    },
    {
      behaviour: 'rejects a fallback that is an array',
      options: { fallbacks: [['openai/gpt-4o-mini']] },
      path: 'fallbacks[0]',
      message:
        'fallbacks[0]: expected a "provider/model" string or a target object; received an array',
    },
    {
      behaviour: 'rejects fallbacks that are not an array',
      options: { fallbacks: 'openai/gpt-4o-mini' },
      path: 'fallbacks',
      message: 'fallbacks: expected an array of targets; received "openai/gpt-4o-mini"',
    },
    {
      behaviour: 'rejects a hook that is not a function',
      options: { hooks: { onAttempt: 'log' } },
      path: 'hooks.onAttempt',
      message: 'hooks.onAttempt: expected a function; received "log"',
    },
    {
      behaviour: 'rejects an unknown option, naming it and the options there are',
      options: { fallback: ['anthropic/claude-sonnet-4-5'] },
      path: 'fallback',
      message:
        'fallback: expected one of "fallbacks", "contextWindowFallbacks", "contentPolicyFallbacks", ' +
        '"retries", "timeoutMs", "attemptTimeoutMs", "backoff", "policy", "hooks", "firstTokenTimeoutMs", ' +
        '"idleTimeoutMs", "hedgeAfterMs", "midStream", "signal", "apiKey", ' +
        '"baseURL", "headers"; received unknown option "fallback"; did you mean "fallbacks"?',
    },
    {
      behaviour: 'rejects an unknown hook name',
      options: { hooks: { onAttempts: () => undefined } },
      path: 'hooks.onAttempts',
      message:
        'hooks.onAttempts: expected one of "onAttempt", "onRetry", "onFallback", "onSuccess", ' +
        '"onFailure", "onHookError"; received unknown option "onAttempts"; did you mean "onAttempt"?',
    },
    {
      behaviour: 'rejects a timeoutMs of 0 rather than reading it as "no timeout"',
      options: { timeoutMs: 0 },
      path: 'timeoutMs',
      message: 'timeoutMs: expected a positive number of ms, or Infinity; received 0',
    },
    {
      behaviour: 'rejects a negative timeoutMs',
      options: { timeoutMs: -1 },
      path: 'timeoutMs',
      message: 'timeoutMs: expected a positive number of ms, or Infinity; received -1',
    },
    {
      behaviour: 'rejects a timeoutMs of NaN',
      options: { timeoutMs: Number.NaN },
      path: 'timeoutMs',
      message: 'timeoutMs: expected a positive number of ms, or Infinity; received NaN',
    },
    {
      behaviour: 'rejects an attemptTimeoutMs of 0',
      options: { attemptTimeoutMs: 0 },
      path: 'attemptTimeoutMs',
      message: 'attemptTimeoutMs: expected a positive number of ms, or Infinity; received 0',
    },
    {
      behaviour: "rejects a target's attemptTimeoutMs of 0",
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', attemptTimeoutMs: 0 }] },
      path: 'fallbacks[0].attemptTimeoutMs',
      message:
        'fallbacks[0].attemptTimeoutMs: expected a positive number of ms, or Infinity; received 0',
    },
    {
      behaviour: 'rejects a request without messages',
      request: { model: 'openai/gpt-4o' },
      path: 'request.messages',
      message: 'request.messages: expected a non-empty array of messages; received undefined',
    },
    {
      behaviour: 'rejects a request with no messages',
      request: { model: 'openai/gpt-4o', messages: [] },
      path: 'request.messages',
      message: 'request.messages: expected a non-empty array of messages; received an empty array',
    },
    {
      behaviour: 'rejects a message of an unknown role before sending it',
      request: { ...request, messages: [{ role: 'wizard', content: 'hi' }] },
      path: 'request.messages[0].role',
      message:
        'request.messages[0].role: expected one of "system"|"user"|"assistant"|"tool"; received "wizard"',
    },
    {
      behaviour: 'rejects a message whose content is a number before sending it',
      request: { ...request, messages: [{ role: 'user', content: 42 }] },
      path: 'request.messages[0].content',
      message:
        'request.messages[0].content: expected a string or an array of text and image parts; received 42',
    },
    {
      behaviour: 'rejects a request field of the wrong type before sending it',
      request: { ...request, temperature: -1 },
      path: 'request.temperature',
      message: 'request.temperature: expected a number, 0 or more; received -1',
    },
    {
      behaviour: 'rejects an unknown key in a target object',
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', maxTokens: 100 }] },
      path: 'fallbacks[0].maxTokens',
      message:
        'fallbacks[0].maxTokens: expected one of "model", "apiKey", "baseURL", "headers", "params", ' +
        '"unset", "retries", "attemptTimeoutMs"; received unknown option "maxTokens"',
    },
    {
      behaviour: "rejects an unknown key in a target's params",
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', params: { max_tokens: 100 } }] },
      path: 'fallbacks[0].params.max_tokens',
      message:
        'fallbacks[0].params.max_tokens: expected one of "tools", "toolChoice", "responseFormat", ' +
        '"temperature", "topP", "topK", "maxTokens", "stop", "seed", "user", "providerOptions"; ' +
        'received unknown option "max_tokens"; did you mean "maxTokens"?',
    },
    {
      behaviour: "rejects an unknown name in a target's unset",
      options: {
        fallbacks: [{ model: 'openai/gpt-4o-mini', unset: ['temperature', 'max_tokens'] }],
      },
      path: 'fallbacks[0].unset[1]',
      message:
        'fallbacks[0].unset[1]: expected one of "tools"|"toolChoice"|"responseFormat"|"temperature"|' +
        '"topP"|"topK"|"maxTokens"|"stop"|"seed"|"user"|"providerOptions"; received "max_tokens"',
    },
    {
      behaviour: 'rejects a policy for a kind that does not exist',
      options: { policy: { rate_limited: { retry: false } } },
      path: 'policy.rate_limited',
      message:
        'policy.rate_limited: expected one of "rate_limit", "overloaded", "server", "timeout", ' +
        '"network", "quota", "auth", "not_found", "context_window", "content_policy", ' +
        '"invalid_request", "unsupported", "empty", "incomplete", "stream_interrupted", "unknown"; ' +
        'received unknown option "rate_limited"; did you mean "rate_limit"?',
    },
  ]

  for (const expected of cases) {
    it(expected.behaviour, async () => {
      const error = await completeError(expected)
      expectPathAndMessage(error, expected)
    })
  }

  it('rejects a request that is not an object', async () => {
    const error = await completeError({ request: null })
    expect(error.path).toBe('request')
    expect(error.message).toBe('request: expected a request object; received null')
  })

  it('throws from stream() itself for a request no target could accept', () => {
    const openai = mockProvider('openai')
    const client = createClient({ providers: [openai] })
    const bad = deepFreeze({ ...request, messages: [{ role: 'tool', content: 'a cat' }] })
    expect(() => client.stream(bad as unknown as ChatRequest)).toThrow(
      expect.objectContaining({ kind: 'config', path: 'request.messages[0].toolCallId' }),
    )
    expect(openai.calls).toEqual([])
  })
})

describe('createClient, with bad options', () => {
  const cases: readonly Case[] = [
    {
      behaviour: 'rejects an unknown provider prefix in its fallbacks at once',
      options: { fallbacks: ['openai/gpt-4o-mini', { model: 'mistral/large' }] },
      path: 'fallbacks[1].model',
      message: `fallbacks[1].model: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in its contextWindowFallbacks at once',
      options: { contextWindowFallbacks: ['mistral/large'] },
      path: 'contextWindowFallbacks[0]',
      message: `contextWindowFallbacks[0]: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects an unknown provider prefix in its contentPolicyFallbacks at once',
      options: { contentPolicyFallbacks: [{ model: 'mistral/large' }] },
      path: 'contentPolicyFallbacks[0].model',
      message: `contentPolicyFallbacks[0].model: unknown provider "mistral" in "mistral/large"; ${configured}`,
    },
    {
      behaviour: 'rejects retries that are not a whole number',
      options: { retries: 1.5 },
      path: 'retries',
      message: 'retries: expected a whole number of retries; received 1.5',
    },
    {
      behaviour: 'rejects a timeoutMs of 0',
      options: { timeoutMs: 0 },
      path: 'timeoutMs',
      message: 'timeoutMs: expected a positive number of ms, or Infinity; received 0',
    },
    {
      behaviour: 'rejects an attemptTimeoutMs of 0',
      options: { attemptTimeoutMs: 0 },
      path: 'attemptTimeoutMs',
      message: 'attemptTimeoutMs: expected a positive number of ms, or Infinity; received 0',
    },
    {
      behaviour: 'rejects a hook that is not a function',
      options: { hooks: { onRetry: 42 } },
      path: 'hooks.onRetry',
      message: 'hooks.onRetry: expected a function; received 42',
    },
    {
      behaviour: 'rejects an unknown option, naming it and the options there are',
      options: { fallback: ['openai/gpt-4o-mini'] },
      path: 'fallback',
      message:
        'fallback: expected one of "fallbacks", "contextWindowFallbacks", "contentPolicyFallbacks", ' +
        '"retries", "timeoutMs", "attemptTimeoutMs", "backoff", "policy", "hooks", "firstTokenTimeoutMs", ' +
        '"idleTimeoutMs", "hedgeAfterMs", "midStream", "providers", "clock", ' +
        '"random", "health"; received unknown option "fallback"; did you mean "fallbacks"?',
    },
    {
      behaviour: 'rejects a health.failureRate of 0',
      options: { health: { failureRate: 0 } },
      path: 'health.failureRate',
      message: 'health.failureRate: expected a rate above 0 and at most 1; received 0',
    },
    {
      behaviour: 'rejects a health.failureRate above 1',
      options: { health: { failureRate: 1.5 } },
      path: 'health.failureRate',
      message: 'health.failureRate: expected a rate above 0 and at most 1; received 1.5',
    },
    {
      behaviour: 'rejects a negative health.cooldownMs',
      options: { health: { cooldownMs: -1 } },
      path: 'health.cooldownMs',
      message: 'health.cooldownMs: expected 0 or more ms; received -1',
    },
    {
      behaviour: 'rejects two providers with the same id',
      options: {
        providers: [mockProvider('openai'), mockProvider('anthropic'), mockProvider('openai')],
      },
      path: 'providers[2].id',
      message: 'providers[2].id: provider "openai" is given twice',
    },
    {
      behaviour: 'rejects an empty list of providers',
      options: { providers: [] },
      path: 'providers',
      message: 'providers: expected at least one provider; received an empty array',
    },
    {
      behaviour: 'rejects a provider without complete() and stream()',
      options: { providers: [{ id: 'openai' }] },
      path: 'providers[0]',
      message:
        'providers[0]: expected a provider: { id, complete(), stream() }; received an object',
    },
  ]

  for (const expected of cases) {
    it(expected.behaviour, () => {
      const options: Readonly<Record<string, unknown>> = Object(expected.options)
      expectPathAndMessage(createError(options), expected)
    })
  }

  it('accepts a health.cooldownMs of 0 (never cool down) and a failureRate of 1', () => {
    expect(() =>
      createClient({
        providers: [mockProvider('openai')],
        health: { cooldownMs: 0, failureRate: 1 },
      }),
    ).not.toThrow()
  })
})

interface SecretCase extends Case {
  /** What must not show in the error, however it is printed. */
  readonly secret: string
  /** Given to createClient instead of client.complete. */
  readonly atCreate?: boolean
}

describe('a ConfigError about a credential', () => {
  const cases: readonly SecretCase[] = [
    {
      behaviour: 'does not show an apiKey given as a number',
      options: { apiKey: 12345678 },
      secret: '12345678',
      path: 'apiKey',
      message: 'apiKey: expected a string key',
    },
    {
      behaviour: "does not show a target's apiKey given as a number",
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', apiKey: 98765432 }] },
      secret: '98765432',
      path: 'fallbacks[0].apiKey',
      message: 'fallbacks[0].apiKey: expected a string key',
    },
    {
      behaviour: 'does not show a malformed baseURL that carries a key',
      options: { baseURL: 'not a url?key=secret-in-url' },
      secret: 'secret-in-url',
      path: 'baseURL',
      message: 'baseURL: expected an http: or https: URL',
    },
    {
      behaviour: "does not show a target's malformed baseURL that carries a key",
      options: {
        fallbacks: [{ model: 'openai/gpt-4o-mini', baseURL: 'https//backup?key=secret-in-url' }],
      },
      secret: 'secret-in-url',
      path: 'fallbacks[0].baseURL',
      message: 'fallbacks[0].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'does not show a header value that is not a string',
      options: { headers: { 'x-api-key': ['sk-header-secret'] } },
      secret: 'sk-header-secret',
      path: 'headers["x-api-key"]',
      message: 'headers["x-api-key"]: expected a string header value',
    },
    {
      behaviour: "does not show a target's headers given as a string",
      options: { fallbacks: [{ model: 'openai/gpt-4o-mini', headers: 'Bearer sk-header-secret' }] },
      secret: 'sk-header-secret',
      path: 'fallbacks[0].headers',
      message: 'fallbacks[0].headers: expected record',
    },
    {
      behaviour: 'does not show the value of a misspelled apiKey option',
      options: { apikey: 'sk-typo-secret' },
      secret: 'sk-typo-secret',
      path: 'apikey',
      message:
        'apikey: expected one of "fallbacks", "contextWindowFallbacks", "contentPolicyFallbacks", ' +
        '"retries", "timeoutMs", "attemptTimeoutMs", "backoff", "policy", "hooks", "firstTokenTimeoutMs", ' +
        '"idleTimeoutMs", "hedgeAfterMs", "midStream", "signal", "apiKey", ' +
        '"baseURL", "headers"; received unknown option "apikey"; did you mean "apiKey"?',
    },
    {
      behaviour: 'does not show a valid key beside another bad option',
      options: {
        apiKey: 'sk-valid-secret',
        headers: { authorization: 'Bearer sk-valid-secret' },
        retries: -1,
      },
      secret: 'sk-valid-secret',
      path: 'retries',
      message: 'retries: expected 0 or more retries; received -1',
    },
    {
      behaviour: "does not show a client fallback's key or its malformed baseURL",
      atCreate: true,
      options: {
        fallbacks: [
          {
            model: 'openai/gpt-4o-mini',
            apiKey: 'sk-client-secret',
            baseURL: 'x?key=sk-client-secret',
          },
        ],
      },
      secret: 'sk-client-secret',
      path: 'fallbacks[0].baseURL',
      message: 'fallbacks[0].baseURL: expected an http: or https: URL',
    },
  ]

  for (const expected of cases) {
    it(expected.behaviour, async () => {
      const error =
        expected.atCreate === true
          ? createError(Object(expected.options))
          : await completeError({ options: expected.options })
      expect(error.path).toBe(expected.path)
      expect(error.message).toBe(expected.message)
      expect(error.message).not.toContain(expected.secret)
      expect(String(error.stack)).not.toContain(expected.secret)
      expect(JSON.stringify(error)).not.toContain(expected.secret)
    })
  }
})

describe('a base URL of a scheme other than http: or https:', () => {
  // The key-like part of each URL must not show: a base URL may carry credentials.
  const ftp = 'ftp://user:sk-url-secret@127.0.0.1/v1'
  const cases: readonly SecretCase[] = [
    {
      behaviour: 'is rejected as the call’s baseURL',
      options: { baseURL: ftp },
      secret: 'sk-url-secret',
      path: 'baseURL',
      message: 'baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in a fallback the call would not reach',
      options: {
        fallbacks: [
          { model: 'anthropic/claude-sonnet-4-5', baseURL: 'https://backup.example/v1' },
          { model: 'openai/gpt-4o-mini', baseURL: ftp },
        ],
      },
      secret: 'sk-url-secret',
      path: 'fallbacks[1].baseURL',
      message: 'fallbacks[1].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in contextWindowFallbacks',
      options: { contextWindowFallbacks: [{ model: 'openai/gpt-4.1', baseURL: 'file:///v1' }] },
      secret: 'file:',
      path: 'contextWindowFallbacks[0].baseURL',
      message: 'contextWindowFallbacks[0].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in contentPolicyFallbacks',
      options: { contentPolicyFallbacks: [{ model: 'openai/gpt-4.1', baseURL: ftp }] },
      secret: 'sk-url-secret',
      path: 'contentPolicyFallbacks[0].baseURL',
      message: 'contentPolicyFallbacks[0].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in a client’s fallbacks at createClient',
      atCreate: true,
      options: { fallbacks: ['openai/gpt-4o-mini', { model: 'openai/gpt-4o', baseURL: ftp }] },
      secret: 'sk-url-secret',
      path: 'fallbacks[1].baseURL',
      message: 'fallbacks[1].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in a client’s contextWindowFallbacks at createClient',
      atCreate: true,
      options: { contextWindowFallbacks: [{ model: 'openai/gpt-4.1', baseURL: ftp }] },
      secret: 'sk-url-secret',
      path: 'contextWindowFallbacks[0].baseURL',
      message: 'contextWindowFallbacks[0].baseURL: expected an http: or https: URL',
    },
    {
      behaviour: 'is rejected in a client’s contentPolicyFallbacks at createClient',
      atCreate: true,
      options: { contentPolicyFallbacks: [{ model: 'openai/gpt-4.1', baseURL: ftp }] },
      secret: 'sk-url-secret',
      path: 'contentPolicyFallbacks[0].baseURL',
      message: 'contentPolicyFallbacks[0].baseURL: expected an http: or https: URL',
    },
  ]

  for (const expected of cases) {
    it(expected.behaviour, async () => {
      const error =
        expected.atCreate === true
          ? createError(Object(expected.options))
          : await completeError({ options: expected.options })
      expect(error.path).toBe(expected.path)
      expect(error.message).toBe(expected.message)
      expect(error.message).not.toContain(expected.secret)
      expect(JSON.stringify(error)).not.toContain(expected.secret)
    })
  }

  it('is rejected on every call of a client whose fast check has seen good base URLs', async () => {
    const openai = mockProvider('openai')
    const client = createClient({ providers: [openai] })
    const https = 'https://backup.example/v1'
    // The fast check remembers base URLs the schema accepted; a rejected one must never join them.
    await expect(client.complete(request, { baseURL: https })).resolves.toMatchObject({
      provider: 'openai',
    })
    for (const baseURL of ['ftp://127.0.0.1/v1', 'ftp://127.0.0.1/v1', 'http://127.0.0.1/v1']) {
      const call = client.complete(request, {
        fallbacks: [
          { model: 'openai/gpt-4o-mini', baseURL: https },
          { model: 'openai/o3', baseURL },
        ],
      })
      if (baseURL.startsWith('ftp:')) {
        await expect(call).rejects.toMatchObject({ kind: 'config', path: 'fallbacks[1].baseURL' })
      } else {
        await expect(call).resolves.toMatchObject({ provider: 'openai' })
      }
    }
    expect(openai.calls.map((call) => call.baseURL)).toEqual([https, undefined])
  })
})

/** The keys a strict object schema takes, read from the schema itself. */
function keysOf(schema: object): string[] {
  const shape: unknown = Reflect.get(
    Object(Reflect.get(Object(Reflect.get(schema, '_zod')), 'def')),
    'shape',
  )
  if (typeof shape !== 'object' || shape === null)
    throw new Error('expected a strict object schema')
  return Object.keys(shape).sort()
}

const sorted = (record: object): string[] => Object.keys(record).sort()

describe('the option schemas', () => {
  // Each list must name every key of its type and nothing else (`satisfies` checks both
  // ways at compile time); each test then checks the schema takes exactly those keys.
  const callDefaults = {
    fallbacks: true,
    contextWindowFallbacks: true,
    contentPolicyFallbacks: true,
    retries: true,
    timeoutMs: true,
    attemptTimeoutMs: true,
    backoff: true,
    policy: true,
    hooks: true,
    firstTokenTimeoutMs: true,
    idleTimeoutMs: true,
    hedgeAfterMs: true,
    midStream: true,
  } as const satisfies Record<keyof CallDefaults, true>

  it('take exactly the keys of CallOptions', () => {
    const keys = {
      ...callDefaults,
      signal: true,
      apiKey: true,
      baseURL: true,
      headers: true,
    } satisfies Record<keyof CallOptions, true>
    expect(keysOf(callOptionsSchema)).toEqual(sorted(keys))
  })

  it('take exactly the keys of ClientOptions', () => {
    const keys = {
      ...callDefaults,
      providers: true,
      clock: true,
      random: true,
      health: true,
    } satisfies Record<keyof ClientOptions, true>
    expect(keysOf(clientOptionsSchema)).toEqual(sorted(keys))
  })

  it('take exactly the keys of TargetObject', () => {
    const keys = {
      model: true,
      apiKey: true,
      baseURL: true,
      headers: true,
      params: true,
      unset: true,
      retries: true,
      attemptTimeoutMs: true,
    } satisfies Record<keyof TargetObject, true>
    expect(keysOf(targetObjectSchema)).toEqual(sorted(keys))
  })

  it('take exactly the keys of ChatParams, Hooks, HealthOptions and BackoffOptions', () => {
    const params = {
      tools: true,
      toolChoice: true,
      responseFormat: true,
      temperature: true,
      topP: true,
      topK: true,
      maxTokens: true,
      stop: true,
      seed: true,
      user: true,
      providerOptions: true,
    } satisfies Record<keyof ChatParams, true>
    const hooks = {
      onAttempt: true,
      onRetry: true,
      onFallback: true,
      onSuccess: true,
      onFailure: true,
      onHookError: true,
    } satisfies Record<keyof Hooks, true>
    const health = {
      store: true,
      minCalls: true,
      failureRate: true,
      windowMs: true,
      cooldownMs: true,
    } satisfies Record<keyof HealthOptions, true>
    const backoff = { initialDelayMs: true, maxDelayMs: true } satisfies Record<
      keyof BackoffOptions,
      true
    >
    expect(keysOf(chatParamsSchema)).toEqual(sorted(params))
    expect(keysOf(hooksSchema)).toEqual(sorted(hooks))
    expect(keysOf(healthOptionsSchema)).toEqual(sorted(health))
    expect(keysOf(backoffSchema)).toEqual(sorted(backoff))
  })

  it('take a policy rule for exactly the policy kinds', () => {
    const kinds = {
      rate_limit: true,
      overloaded: true,
      server: true,
      timeout: true,
      network: true,
      quota: true,
      auth: true,
      not_found: true,
      context_window: true,
      content_policy: true,
      invalid_request: true,
      unsupported: true,
      empty: true,
      incomplete: true,
      stream_interrupted: true,
      unknown: true,
    } satisfies Record<PolicyKind, true>
    expect(keysOf(policySchema)).toEqual(sorted(kinds))
  })
})
