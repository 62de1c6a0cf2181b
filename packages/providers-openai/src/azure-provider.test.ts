import { type ChatRequest, createClient, type ErrorKind, isUnderstudyError } from '@understudy/core'
import { type ConformanceSetup, fixtureReply, startFakeOpenAI } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import { Agent } from 'undici'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { type AzureProviderOptions, azure, defaultAzureApiVersion } from './azure-provider.js'

import { collect, context, env, rejection, server, thrownBy } from './test-support/harness.js'

const fixtures = new URL('../../../fixtures/', import.meta.url)
const hi: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }

/** The Azure variables unset, so the machine running the tests cannot change them. */
function cleanEnv(): void {
  env({ AZURE_OPENAI_API_KEY: '', AZURE_OPENAI_ENDPOINT: '', OPENAI_API_VERSION: '' })
}

const conformance: ConformanceSetup = {
  provider: ({ baseURL, apiKey }) => azure({ endpoint: baseURL, apiKey }),
  startServer: startFakeOpenAI,
  // The endpoint is the origin: the provider adds `/openai/deployments/…`.
  baseURL: (fake) => fake.url,
}

providerConformanceSuite('azure()', conformance)

describe('azure', () => {
  it('posts to the deployment path with the api-version query and the key as api-key', async () => {
    const fake = await server()
    cleanEnv()
    fake.script('gpt-4o', { text: 'Hello from Azure.' })
    const provider = azure({
      endpoint: `${fake.url}/`,
      apiKey: 'key-azure',
      apiVersion: '2025-01-01-preview',
    })
    const response = await provider.complete(hi, context())
    expect(response.text).toBe('Hello from Azure.')
    const [request] = fake.requests
    expect(request?.path).toBe('/openai/deployments/gpt-4o/chat/completions')
    expect(request?.query).toEqual({ 'api-version': '2025-01-01-preview' })
    expect(request?.headers['api-key']).toBe('key-azure')
    expect(request?.headers.authorization).toBeUndefined()
  })

  it('serves "azure/<model>" targets through a client', async () => {
    const fake = await server()
    cleanEnv()
    const client = createClient({ providers: [azure({ endpoint: fake.url, apiKey: 'key-azure' })] })
    const response = await client.complete({ ...hi, model: 'azure/gpt-4o' })
    expect(response).toMatchObject({ provider: 'azure', model: 'gpt-4o', target: 'azure/gpt-4o' })
    expect(fake.requests[0]?.model).toBe('gpt-4o')
  })

  it('sends a mapped target model to its deployment, and an unmapped one to a deployment of its name', async () => {
    const fake = await server()
    cleanEnv()
    const deployments: Record<string, string> = { 'gpt-4o': 'prod-gpt-4o' }
    const provider = azure({ endpoint: fake.url, apiKey: 'key-azure', deployments })
    // A later write to the caller's object changes nothing.
    deployments['gpt-4o'] = 'elsewhere'
    await provider.complete(hi, context())
    await provider.complete({ ...hi, model: 'gpt-4o-mini' }, context())
    await provider.complete({ ...hi, model: 'constructor' }, context())
    expect(fake.requests.map((request) => request.path)).toEqual([
      '/openai/deployments/prod-gpt-4o/chat/completions',
      '/openai/deployments/gpt-4o-mini/chat/completions',
      '/openai/deployments/constructor/chat/completions',
    ])
    expect(fake.requests[0]?.model).toBe('prod-gpt-4o')
  })

  it('encodes a deployment name into one path segment', async () => {
    const fake = await server()
    cleanEnv()
    const provider = azure({
      endpoint: fake.url,
      apiKey: 'key-azure',
      deployments: { 'gpt-4o': 'a/../b?c' },
    })
    await provider.complete(hi, context())
    expect(fake.requests[0]?.path).toBe('/openai/deployments/a%2F..%2Fb%3Fc/chat/completions')
    expect(fake.requests[0]?.query).toEqual({ 'api-version': defaultAzureApiVersion })
  })

  it('reads AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION when made, and AZURE_OPENAI_API_KEY when made and again by each call', async () => {
    const fake = await server()
    cleanEnv()
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', fake.url)
    vi.stubEnv('OPENAI_API_VERSION', '2024-10-01-preview')
    vi.stubEnv('AZURE_OPENAI_API_KEY', 'key-from-env-1')
    const provider = azure()
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers['api-key']).toBe('key-from-env-1')
    expect(fake.requests[0]?.query).toEqual({ 'api-version': '2024-10-01-preview' })
    // A rotated key is used by the next call.
    vi.stubEnv('AZURE_OPENAI_API_KEY', 'key-from-env-2')
    await provider.complete(hi, context())
    expect(fake.requests[1]?.headers['api-key']).toBe('key-from-env-2')
    // A key unset after the provider was made fails that call, saying how to fix it.
    vi.stubEnv('AZURE_OPENAI_API_KEY', '')
    const missing = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(missing, 'auth')).toBe(true)
    expect(missing).toMatchObject({
      message:
        'azure/gpt-4o: no API key: set AZURE_OPENAI_API_KEY or pass apiKey to azure(), ' +
        'or give the target its own apiKey',
    })
    expect(fake.requests).toHaveLength(2)
  })

  it('throws a config error when made with no credential to be found, saying how to give one', () => {
    cleanEnv()
    const error = thrownBy(() => azure({ endpoint: 'https://a.example' }))
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(error).toMatchObject({
      path: 'azure(options).apiKey',
      message:
        'azure(options).apiKey: no API key: set AZURE_OPENAI_API_KEY or pass apiKey to azure(), ' +
        'or keyPerTarget: true if every target brings its own apiKey',
    })
  })

  it('needs no key when made with a token provider, or told that every target brings its own', async () => {
    const fake = await server()
    cleanEnv()
    expect(azure({ endpoint: fake.url, azureADTokenProvider: () => 'entra-token' }).id).toBe(
      'azure',
    )
    const perTarget = azure({ endpoint: fake.url, keyPerTarget: true })
    await perTarget.complete(hi, context({ apiKey: 'key-target' }))
    expect(fake.requests[0]?.headers['api-key']).toBe('key-target')
    const missing = await rejection(perTarget.complete(hi, context()))
    expect(isUnderstudyError(missing, 'auth')).toBe(true)
    expect(fake.requests).toHaveLength(1)
  })

  it('refuses an unknown option, naming the one it was probably meant as', () => {
    cleanEnv()
    const error = thrownBy(() =>
      azure({ endpoint: 'https://a.example', apikey: 'key-typo-secret' } as AzureProviderOptions),
    )
    expect(error).toMatchObject({ path: 'azure(options).apikey' })
    expect((error as Error).message).toMatch(
      /received unknown option "apikey"; did you mean "apiKey"\?$/,
    )
    expect((error as Error).message).not.toContain('key-typo-secret')
  })

  it('refuses an AZURE_OPENAI_ENDPOINT that is not an http: or https: URL, naming the variable and not its value', () => {
    cleanEnv()
    vi.stubEnv('AZURE_OPENAI_ENDPOINT', 'my-resource.openai.azure.com')
    const error = thrownBy(() => azure({ apiKey: 'key-azure' }))
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(error).toMatchObject({
      path: 'AZURE_OPENAI_ENDPOINT',
      message:
        'AZURE_OPENAI_ENDPOINT: expected an http: or https: URL, such as "https://my-resource.openai.azure.com"',
    })
  })

  it('takes every option its type documents', () => {
    cleanEnv()
    const dispatcher = new Agent()
    onTestFinished(() => dispatcher.close())
    const every: Required<AzureProviderOptions> = {
      id: 'azure-eu',
      endpoint: 'https://a.example',
      resourceName: 'a',
      apiVersion: '2024-10-21',
      apiKey: 'key-azure',
      keyPerTarget: false,
      azureADTokenProvider: () => 'entra-token',
      deployments: { 'gpt-4o': 'prod' },
      headers: { 'x-team': 'blue' },
      includeUsage: true,
      maxTokensField: 'max_tokens',
      dispatcher,
      fetch,
    }
    // One at a time, each with what it allows: endpoint excludes resourceName, and
    // apiKey the token provider.
    for (const [name, value] of Object.entries(every)) {
      const where = name === 'endpoint' ? {} : { resourceName: 'a' }
      const credential = name === 'apiKey' || name === 'azureADTokenProvider' ? {} : { apiKey: 'k' }
      expect(() => azure({ ...where, ...credential, [name]: value }), name).not.toThrow()
    }
  })

  it(`sends api-version ${defaultAzureApiVersion} when none is given or set`, async () => {
    const fake = await server()
    cleanEnv()
    await azure({ endpoint: fake.url, apiKey: 'key-azure' }).complete(hi, context())
    expect(fake.requests[0]?.query).toEqual({ 'api-version': '2024-10-21' })
  })

  it('builds the endpoint from resourceName', async () => {
    const fake = await server()
    cleanEnv()
    const urls: string[] = []
    const provider = azure({
      resourceName: 'my-resource',
      apiKey: 'key-azure',
      // Records the URL and answers from the fake server: the real host is never contacted.
      fetch: (url, init) => {
        urls.push(url)
        return fetch(`${fake.url}/openai/deployments/gpt-4o/chat/completions?api-version=x`, init)
      },
    })
    await provider.complete(hi, context())
    expect(urls).toEqual([
      `https://my-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=${defaultAzureApiVersion}`,
    ])
  })

  it('calls the token provider for every attempt and sends its token as a Bearer token', async () => {
    const fake = await server()
    cleanEnv()
    vi.stubEnv('AZURE_OPENAI_API_KEY', 'key-from-env')
    let calls = 0
    const azureADTokenProvider = vi.fn(async () => {
      calls += 1
      return `entra-token-${calls}`
    })
    const provider = azure({ endpoint: fake.url, azureADTokenProvider })
    expect(azureADTokenProvider).not.toHaveBeenCalled()
    await provider.complete(hi, context())
    await collect(provider.stream(hi, context()))
    expect(azureADTokenProvider).toHaveBeenCalledTimes(2)
    expect(fake.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer entra-token-1',
      'Bearer entra-token-2',
    ])
    for (const request of fake.requests) expect(request.headers['api-key']).toBeUndefined()
    // Health keys tell it apart by its endpoint only: the token is fetched, and not for that.
    expect(provider.configuredTarget?.()).toEqual({ baseURL: fake.url, apiKey: undefined })
    expect(azureADTokenProvider).toHaveBeenCalledTimes(2)
  })

  it('fails an attempt with kind auth when the token provider throws, before any request', async () => {
    const fake = await server()
    cleanEnv()
    const provider = azure({
      endpoint: fake.url,
      azureADTokenProvider: () => {
        throw new Error('no credential available')
      },
    })
    const error = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(error, 'auth')).toBe(true)
    expect(fake.requests).toHaveLength(0)
  })

  it("sends a target's own key as api-key, without calling the token provider", async () => {
    const fake = await server()
    cleanEnv()
    const azureADTokenProvider = vi.fn(() => 'entra-token')
    const provider = azure({ endpoint: fake.url, azureADTokenProvider })
    await provider.complete(hi, context({ apiKey: 'key-target' }))
    expect(azureADTokenProvider).not.toHaveBeenCalled()
    expect(fake.requests[0]?.headers['api-key']).toBe('key-target')
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('sends no credential to a target with its own endpoint and no key', async () => {
    const fake = await server()
    cleanEnv()
    const keyed = azure({ endpoint: 'http://127.0.0.1:9', apiKey: 'key-configured' })
    await keyed.complete(hi, context({ baseURL: fake.url }))
    const azureADTokenProvider = vi.fn(() => 'entra-token')
    const tokened = azure({ endpoint: 'http://127.0.0.1:9', azureADTokenProvider })
    await tokened.complete(hi, context({ baseURL: fake.url }))
    expect(azureADTokenProvider).not.toHaveBeenCalled()
    expect(fake.requests).toHaveLength(2)
    for (const request of fake.requests) {
      expect(request.path).toBe('/openai/deployments/gpt-4o/chat/completions')
      expect(request.headers['api-key']).toBeUndefined()
      expect(request.headers.authorization).toBeUndefined()
    }
  })

  it('asks streams for usage on current API versions, not on versions before 2024-09-01', async () => {
    const fake = await server()
    cleanEnv()
    fake.script('gpt-4o', { text: 'Counted.', usage: { inputTokens: 4, outputTokens: 2 } })
    const versions = ['2024-10-21', '2024-09-01-preview', 'preview', '2024-06-01', '2023-05-15']
    for (const apiVersion of versions) {
      const provider = azure({ endpoint: fake.url, apiKey: 'key-azure', apiVersion })
      await collect(provider.stream(hi, context()))
    }
    const asked = fake.requests.map((request) =>
      Reflect.has(request.body as object, 'stream_options'),
    )
    expect(asked).toEqual([true, true, true, false, false])
    const forced = azure({
      endpoint: fake.url,
      apiKey: 'key-azure',
      apiVersion: '2024-06-01',
      includeUsage: true,
    })
    const events = await collect(forced.stream(hi, context()))
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      usage: { inputTokens: 4, outputTokens: 2 },
    })
  })

  it('merges providerOptions.azure over providerOptions.openai', async () => {
    const fake = await server()
    cleanEnv()
    const provider = azure({ endpoint: fake.url, apiKey: 'key-azure' })
    await provider.complete(
      { ...hi, providerOptions: { openai: { logprobs: true, user: 'a' }, azure: { user: 'b' } } },
      context(),
    )
    expect(fake.requests[0]?.body).toMatchObject({ logprobs: true, user: 'b' })
  })

  it('answers a 200 whose finish reason is content_filter with that finish reason', async () => {
    const fake = await server()
    cleanEnv()
    fake.script('gpt-4o', { text: '', finishReason: 'content_filter' })
    const response = await azure({ endpoint: fake.url, apiKey: 'key-azure' }).complete(
      hi,
      context(),
    )
    expect(response.finishReason).toBe('content_filter')
  })

  it.each([
    ['azure/error-400-content-filter.json', 'content_policy', undefined],
    ['azure/error-400-content-filter-violence.json', 'content_policy', undefined],
    ['azure/error-404-deployment-not-found.json', 'not_found', undefined],
    ['azure/error-401-invalid-key.json', 'auth', undefined],
    ['azure/error-429-rate-limit-short.json', 'rate_limit', 50_000],
    ['azure/error-429-token-rate-limit.json', 'rate_limit', 86_400_000],
  ] as [string, ErrorKind, number | undefined][])(
    'rejects a recorded %s as kind %s',
    async (file, kind, retryAfterMs) => {
      const fake = await server()
      cleanEnv()
      fake.script('gpt-4o', fixtureReply(new URL(file, fixtures)))
      const error = await rejection(
        azure({ endpoint: fake.url, apiKey: 'key-azure-secret' }).complete(hi, context()),
      )
      expect(isUnderstudyError(error, kind)).toBe(true)
      expect(error).toMatchObject({ provider: 'azure', model: 'gpt-4o', retryAfterMs })
      expect(JSON.stringify(error)).not.toContain('key-azure-secret')
    },
  )

  it.each([
    ['no endpoint given or set', {}, 'azure(options).endpoint'],
    [
      'both endpoint and resourceName',
      { endpoint: 'https://a.example', resourceName: 'a' },
      'azure(options).resourceName',
    ],
    [
      'a resource name that is no host label',
      { resourceName: 'evil.example/x' },
      'azure(options).resourceName',
    ],
    [
      'an endpoint that is no URL',
      { endpoint: 'my-resource.openai.azure.com' },
      'azure(options).endpoint',
    ],
    [
      'both apiKey and azureADTokenProvider',
      { endpoint: 'https://a.example', apiKey: 'k', azureADTokenProvider: () => 't' },
      'azure(options).azureADTokenProvider',
    ],
    [
      'an empty apiVersion',
      { endpoint: 'https://a.example', apiVersion: '' },
      'azure(options).apiVersion',
    ],
    ['an id with a slash', { endpoint: 'https://a.example', id: 'azure/eu' }, 'azure(options).id'],
  ] as [string, AzureProviderOptions, string][])(
    'rejects %s with a config error naming the option',
    (_what, options, path) => {
      cleanEnv()
      const error = thrownBy(() => azure(options))
      expect(isUnderstudyError(error, 'config')).toBe(true)
      expect(error).toMatchObject({ path })
    },
  )
})
