import {
  type ChatRequest,
  createClient,
  type ErrorKind,
  isUnderstudyError,
  type Provider,
} from '@understudy/core'
import type { FetchFunction } from '@understudy/provider-kit'
import { type FakeServer, fixtureReply, startFakeOpenAI } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import { Agent } from 'undici'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  deepseek,
  fireworks,
  groq,
  lmstudio,
  mistral,
  type OpenAICompatibleOptions,
  type OpenAICompatiblePresetOptions,
  ollama,
  openaiCompatible,
  openrouter,
  together,
  vllm,
} from './openai-compatible.js'

import { collect, configErrorOf, context, env, rejection, server } from './test-support/harness.js'

const fixtures = new URL('../../../fixtures/', import.meta.url)
const hi: ChatRequest = { model: 'llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] }

/**
 * A `fetch` that records the URL a provider asked for and sends the request
 * to the fake server instead: the presets' real hosts are never contacted.
 */
function redirectTo(fake: FakeServer, urls: string[]): FetchFunction {
  return (url, init) => {
    urls.push(url)
    return fetch(`${fake.url}/v1/chat/completions`, init)
  }
}

providerConformanceSuite('openaiCompatible()', {
  provider: ({ baseURL, apiKey }) => openaiCompatible({ id: 'acme', baseURL, apiKey }),
  startServer: startFakeOpenAI,
  baseURL: (fake) => `${fake.url}/v1`,
})

providerConformanceSuite('openaiCompatible() of a server that needs no key', {
  provider: ({ baseURL, apiKey }) =>
    openaiCompatible({ id: 'local', baseURL, apiKey, keyRequired: false }),
  startServer: startFakeOpenAI,
  baseURL: (fake) => `${fake.url}/v1`,
})

describe('openaiCompatible', () => {
  it('serves "<id>/<model>" targets through a client, sending the key as a Bearer token', async () => {
    const fake = await server()
    fake.script('llama-3.3-70b', { text: 'Hi from B.' })
    const client = createClient({
      providers: [openaiCompatible({ id: 'acme', baseURL: `${fake.url}/v1`, apiKey: 'key-acme' })],
    })
    const response = await client.complete({ ...hi, model: 'acme/llama-3.3-70b' })
    expect(response).toMatchObject({
      text: 'Hi from B.',
      provider: 'acme',
      model: 'llama-3.3-70b',
      target: 'acme/llama-3.3-70b',
    })
    const [request] = fake.requests
    expect(request?.path).toBe('/v1/chat/completions')
    expect(request?.model).toBe('llama-3.3-70b')
    expect(request?.headers.authorization).toBe('Bearer key-acme')
  })

  it('reads the key from its apiKeyEnv variable when made, and again by each call', async () => {
    const fake = await server()
    env({ ACME_API_KEY: 'key-from-env-1' })
    const provider = openaiCompatible({
      id: 'acme',
      baseURL: `${fake.url}/v1`,
      apiKeyEnv: 'ACME_API_KEY',
    })
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer key-from-env-1')
    // A rotated key is used by the next call.
    vi.stubEnv('ACME_API_KEY', 'key-from-env-2')
    await provider.complete(hi, context())
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer key-from-env-2')
    // A key unset after the provider was made fails that call, saying how to fix it.
    vi.stubEnv('ACME_API_KEY', '')
    const missing = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(missing, 'auth')).toBe(true)
    expect(missing).toMatchObject({
      message:
        'acme/llama-3.3-70b: no API key: set ACME_API_KEY or pass apiKey to openaiCompatible(), ' +
        'or give the target its own apiKey',
    })
    expect(fake.requests).toHaveLength(2)
  })

  it('prefers the apiKey option over its apiKeyEnv variable', async () => {
    const fake = await server()
    env({ ACME_API_KEY: 'key-from-env' })
    const provider = openaiCompatible({
      id: 'acme',
      baseURL: `${fake.url}/v1`,
      apiKey: 'key-given',
      apiKeyEnv: 'ACME_API_KEY',
    })
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer key-given')
  })

  it('throws a config error when made with no key given and none named, saying how to give one', () => {
    env({ ACME_API_KEY: '' })
    expect(
      configErrorOf(() => openaiCompatible({ id: 'acme', baseURL: 'http://127.0.0.1:9/v1' })),
    ).toMatchObject({
      path: 'openaiCompatible(options).apiKey',
      message:
        'openaiCompatible(options).apiKey: no API key: pass apiKey to openaiCompatible(), ' +
        'or keyPerTarget: true if every target brings its own apiKey',
    })
    const named = configErrorOf(() =>
      openaiCompatible({ id: 'acme', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ACME_API_KEY' }),
    )
    expect((named as Error).message).toMatch(
      /: no API key: set ACME_API_KEY or pass apiKey to openaiCompatible\(\), or keyPerTarget/,
    )
  })

  it('needs no key when made with keyPerTarget, and fails a call with kind auth, before any request, when its target brings none', async () => {
    const fake = await server()
    const provider = openaiCompatible({ id: 'acme', baseURL: `${fake.url}/v1`, keyPerTarget: true })
    await provider.complete(hi, context({ apiKey: 'key-target' }))
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer key-target')
    const error = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(error, 'auth')).toBe(true)
    expect(error).toMatchObject({
      message:
        'acme/llama-3.3-70b: no API key: pass apiKey to openaiCompatible(), ' +
        'or give the target its own apiKey',
    })
    expect(fake.requests).toHaveLength(1)
  })

  it('sends no authorization header to a server that needs no key, and a key when one is there', async () => {
    const fake = await server()
    env({ LOCAL_KEY: '' })
    const provider = openaiCompatible({
      id: 'local',
      baseURL: `${fake.url}/v1`,
      apiKeyEnv: 'LOCAL_KEY',
      keyRequired: false,
    })
    const response = await provider.complete(hi, context())
    expect(response.text).toBe('Hello from the fake server.')
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
    vi.stubEnv('LOCAL_KEY', 'key-local')
    await provider.complete(hi, context())
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer key-local')
    await provider.complete(hi, context({ apiKey: 'key-target' }))
    expect(fake.requests[2]?.headers.authorization).toBe('Bearer key-target')
  })

  it('streams from a server that needs no key without an authorization header', async () => {
    const fake = await server()
    fake.script('llama-3.3-70b', { text: 'Local stream.' })
    const provider = openaiCompatible({
      id: 'local',
      baseURL: `${fake.url}/v1`,
      keyRequired: false,
    })
    const events = await collect(provider.stream(hi, context()))
    const text = events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('')
    expect(text).toBe('Local stream.')
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('sends no configured key to a target with its own base URL and no key', async () => {
    const fake = await server()
    const provider = openaiCompatible({
      id: 'acme',
      baseURL: 'http://127.0.0.1:9/v1',
      apiKey: 'key-configured',
    })
    await provider.complete(hi, context({ baseURL: `${fake.url}/v1` }))
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
    await provider.complete(hi, context({ baseURL: `${fake.url}/v1`, apiKey: 'key-target' }))
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer key-target')
  })

  it('asks streams for usage by default and not when includeUsage is false', async () => {
    const fake = await server()
    fake.script('llama-3.3-70b', { text: 'Counted.', usage: { inputTokens: 4, outputTokens: 2 } })
    const baseURL = `${fake.url}/v1`
    const asking = openaiCompatible({ id: 'acme', baseURL, apiKey: 'key-acme' })
    const events = await collect(asking.stream(hi, context()))
    expect(fake.requests[0]?.body).toMatchObject({ stream_options: { include_usage: true } })
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      usage: { inputTokens: 4, outputTokens: 2 },
    })
    const silent = openaiCompatible({
      id: 'acme',
      baseURL,
      apiKey: 'key-acme',
      includeUsage: false,
    })
    await collect(silent.stream(hi, context()))
    expect(fake.requests[1]?.body).toMatchObject({ stream: true })
    expect(fake.requests[1]?.body).not.toHaveProperty('stream_options')
  })

  it('declares assistantPrefix only when told, and then marks a final assistant message as prefix', async () => {
    const fake = await server()
    const baseURL = `${fake.url}/v1`
    expect(openaiCompatible({ id: 'acme', baseURL, apiKey: 'k' }).assistantPrefix).toBeUndefined()
    expect(deepseek({ apiKey: 'k' }).assistantPrefix).toBeUndefined()
    expect(mistral({ apiKey: 'k' }).assistantPrefix).toBeUndefined()
    const beta = deepseek({ baseURL, apiKey: 'k', assistantPrefix: true })
    expect(beta.assistantPrefix).toBe(true)
    const prefixed: ChatRequest = {
      ...hi,
      messages: [...hi.messages, { role: 'assistant', content: 'Hel' }],
    }
    await collect(beta.stream(prefixed, context()))
    expect(fake.requests[0]?.body).toMatchObject({
      messages: [{ role: 'user' }, { role: 'assistant', content: 'Hel', prefix: true }],
    })
  })

  it('puts maxTokens in the field maxTokensField names', async () => {
    const fake = await server()
    const baseURL = `${fake.url}/v1`
    await openaiCompatible({ id: 'acme', baseURL, apiKey: 'k-1234' }).complete(
      { ...hi, maxTokens: 64 },
      context(),
    )
    expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 64 })
    const provider = openaiCompatible({
      id: 'acme',
      baseURL,
      apiKey: 'k-1234',
      maxTokensField: 'max_completion_tokens',
    })
    await provider.complete({ ...hi, maxTokens: 64 }, context())
    expect(fake.requests[1]?.body).toMatchObject({ max_completion_tokens: 64 })
    expect(fake.requests[1]?.body).not.toHaveProperty('max_tokens')
  })

  it('sends topK as top_k, which compatible servers such as vLLM take', async () => {
    const fake = await server()
    const provider = openaiCompatible({ id: 'acme', baseURL: `${fake.url}/v1`, apiKey: 'k-1234' })
    await provider.complete({ ...hi, topK: 20 }, context())
    expect(fake.requests[0]?.body).toMatchObject({ top_k: 20 })
  })

  it('merges providerOptions under its own id over providerOptions.openai', async () => {
    const fake = await server()
    const provider = openaiCompatible({ id: 'acme', baseURL: `${fake.url}/v1`, apiKey: 'k-1234' })
    const request: ChatRequest = {
      ...hi,
      providerOptions: { openai: { top_k: 1, service_tier: 'flex' }, acme: { top_k: 5 } },
    }
    await provider.complete(request, context())
    expect(fake.requests[0]?.body).toMatchObject({ top_k: 5, service_tier: 'flex' })
  })

  it('keeps the headers it was given, whatever the caller does to them later', async () => {
    const fake = await server()
    const headers: Record<string, string> = { 'x-team': 'blue' }
    const provider = openaiCompatible({
      id: 'acme',
      baseURL: `${fake.url}/v1`,
      apiKey: 'k-1234',
      headers,
    })
    headers['x-team'] = 'red'
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers['x-team']).toBe('blue')
  })

  it.each([
    ['an empty id', { id: '', baseURL: 'http://127.0.0.1:1/v1' }, 'openaiCompatible(options).id'],
    [
      'an id with a slash',
      { id: 'a/b', baseURL: 'http://127.0.0.1:1/v1' },
      'openaiCompatible(options).id',
    ],
    [
      'a base URL that is no URL',
      { id: 'acme', baseURL: '127.0.0.1:1/v1' },
      'openaiCompatible(options).baseURL',
    ],
    [
      'a base URL of another scheme',
      { id: 'acme', baseURL: 'ftp://127.0.0.1/v1' },
      'openaiCompatible(options).baseURL',
    ],
  ])('rejects %s with a config error naming the option', (_what, options, path) => {
    let thrown: unknown
    try {
      openaiCompatible(options)
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'config')).toBe(true)
    expect(thrown).toMatchObject({ path })
  })

  it('says what a base URL looks like, without showing the one refused', () => {
    const error = configErrorOf(() =>
      openaiCompatible({ id: 'acme', baseURL: 'user:secret@127.0.0.1:1/v1', apiKey: 'k' }),
    )
    expect(error).toMatchObject({
      message:
        'openaiCompatible(options).baseURL: expected an http: or https: URL, such as "https://api.groq.com/openai/v1"',
    })
  })

  it('refuses an unknown option, naming the one it was probably meant as', () => {
    const error = configErrorOf(() =>
      openaiCompatible({
        id: 'acme',
        baseURL: 'http://127.0.0.1:9/v1',
        apiKey: 'k',
        keyrequired: false,
      } as OpenAICompatibleOptions),
    )
    expect(error).toMatchObject({ path: 'openaiCompatible(options).keyrequired' })
    expect((error as Error).message).toMatch(/did you mean "keyRequired"\?$/)
  })

  it('takes every option its type documents', () => {
    const dispatcher = new Agent()
    onTestFinished(() => dispatcher.close())
    const every: Required<OpenAICompatibleOptions> = {
      id: 'acme',
      baseURL: 'http://127.0.0.1:9/v1',
      apiKey: 'k',
      apiKeyEnv: 'ACME_API_KEY',
      keyPerTarget: false,
      keyRequired: true,
      headers: { 'x-team': 'blue' },
      includeUsage: true,
      assistantPrefix: true,
      maxTokensField: 'max_tokens',
      dispatcher,
      fetch,
    }
    expect(openaiCompatible(every).id).toBe('acme')
  })

  it.each([
    ['other/groq-400-context-length.json', 'context_window'],
    ['other/groq-404-model-not-found.json', 'not_found'],
    ['other/deepseek-400-context-length.json', 'context_window'],
    ['other/openrouter-400-context-length.json', 'context_window'],
    ['other/openrouter-429-provider-rate-limited.json', 'rate_limit'],
    ['other/vllm-400-context-length.json', 'context_window'],
  ] as [string, ErrorKind][])('rejects a recorded %s as kind %s', async (file, kind) => {
    const fake = await server()
    fake.script('llama-3.3-70b', fixtureReply(new URL(file, fixtures)))
    const provider = openaiCompatible({ id: 'acme', baseURL: `${fake.url}/v1`, apiKey: 'k-1234' })
    const error = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(error, kind)).toBe(true)
  })
})

/** One preset, as its documentation states it. */
interface PresetCase {
  readonly make: (options?: OpenAICompatiblePresetOptions) => Provider
  readonly id: string
  readonly baseURL: string
  /** The variable holding its key; `undefined` when it reads none. */
  readonly apiKeyEnv: string | undefined
  readonly keyRequired: boolean
  readonly includeUsage: boolean
}

const presets: readonly PresetCase[] = [
  {
    make: groq,
    id: 'groq',
    baseURL: 'https://api.groq.com/openai/v1',
    apiKeyEnv: 'GROQ_API_KEY',
    keyRequired: true,
    includeUsage: true,
  },
  {
    make: together,
    id: 'together',
    baseURL: 'https://api.together.xyz/v1',
    apiKeyEnv: 'TOGETHER_API_KEY',
    keyRequired: true,
    includeUsage: true,
  },
  {
    make: openrouter,
    id: 'openrouter',
    baseURL: 'https://openrouter.ai/api/v1',
    apiKeyEnv: 'OPENROUTER_API_KEY',
    keyRequired: true,
    includeUsage: true,
  },
  {
    make: deepseek,
    id: 'deepseek',
    baseURL: 'https://api.deepseek.com/v1',
    apiKeyEnv: 'DEEPSEEK_API_KEY',
    keyRequired: true,
    includeUsage: true,
  },
  {
    make: mistral,
    id: 'mistral',
    baseURL: 'https://api.mistral.ai/v1',
    apiKeyEnv: 'MISTRAL_API_KEY',
    keyRequired: true,
    includeUsage: false,
  },
  {
    make: fireworks,
    id: 'fireworks',
    baseURL: 'https://api.fireworks.ai/inference/v1',
    apiKeyEnv: 'FIREWORKS_API_KEY',
    keyRequired: true,
    includeUsage: true,
  },
  {
    make: ollama,
    id: 'ollama',
    baseURL: 'http://127.0.0.1:11434/v1',
    apiKeyEnv: undefined,
    keyRequired: false,
    includeUsage: true,
  },
  {
    make: vllm,
    id: 'vllm',
    baseURL: 'http://127.0.0.1:8000/v1',
    apiKeyEnv: 'VLLM_API_KEY',
    keyRequired: false,
    includeUsage: true,
  },
  {
    make: lmstudio,
    id: 'lmstudio',
    baseURL: 'http://127.0.0.1:1234/v1',
    apiKeyEnv: undefined,
    keyRequired: false,
    includeUsage: true,
  },
]

const presetVariables = presets.flatMap((preset) =>
  preset.apiKeyEnv === undefined ? [] : [preset.apiKeyEnv],
)

/** Every preset's key variable unset, so a key from the machine running the tests cannot leak in. */
function unsetPresetVariables(): void {
  env(Object.fromEntries(presetVariables.map((name) => [name, ''])))
}

describe('presets', () => {
  it.each(presets.map((preset) => [preset.id, preset.baseURL, preset] as const))(
    '%s() serves its targets at %s',
    async (_id, _baseURL, preset) => {
      const fake = await server()
      unsetPresetVariables()
      if (preset.apiKeyEnv !== undefined) vi.stubEnv(preset.apiKeyEnv, `key-${preset.id}`)
      const urls: string[] = []
      const provider = preset.make({ fetch: redirectTo(fake, urls) })
      expect(provider.id).toBe(preset.id)
      const client = createClient({ providers: [provider] })
      const response = await client.complete({ ...hi, model: `${preset.id}/llama-3.3-70b` })
      expect(response.target).toBe(`${preset.id}/llama-3.3-70b`)
      expect(urls).toEqual([`${preset.baseURL}/chat/completions`])
      expect(fake.requests[0]?.model).toBe('llama-3.3-70b')
    },
  )

  it.each(
    presets.flatMap((preset) =>
      preset.apiKeyEnv === undefined ? [] : [[preset.id, preset.apiKeyEnv, preset] as const],
    ),
  )(
    '%s() reads its key from %s when made and again by each call, and no other variable',
    async (_id, _variable, preset) => {
      const fake = await server()
      unsetPresetVariables()
      const variable = preset.apiKeyEnv as string
      vi.stubEnv(variable, `key-${preset.id}-first`)
      const provider = preset.make({ fetch: redirectTo(fake, []) })
      // Changed after the provider was made: read again at call time.
      vi.stubEnv(variable, `key-${preset.id}-later`)
      await provider.complete(hi, context())
      expect(fake.requests[0]?.headers.authorization).toBe(`Bearer key-${preset.id}-later`)
      // Each preset reads only its own variable.
      const others = presetVariables.filter((name) => name !== variable)
      for (const name of others) vi.stubEnv(name, `key-of-${name}`)
      vi.stubEnv(variable, '')
      const outcome = await provider.complete(hi, context()).then(
        () => 'sent',
        (error: unknown) => (isUnderstudyError(error, 'auth') ? 'auth' : error),
      )
      expect(outcome).toBe(preset.keyRequired ? 'auth' : 'sent')
      for (const request of fake.requests.slice(1)) {
        expect(request.headers.authorization).toBeUndefined()
      }
    },
  )

  it.each(
    presets.flatMap((preset) =>
      preset.keyRequired ? [[preset.id, preset.apiKeyEnv as string, preset] as const] : [],
    ),
  )(
    '%s() throws a config error when made with %s unset and no apiKey, naming both',
    (id, variable, preset) => {
      unsetPresetVariables()
      expect(configErrorOf(() => preset.make())).toMatchObject({
        path: `${id}(options).apiKey`,
        message:
          `${id}(options).apiKey: no API key: set ${variable} or pass apiKey to ${id}(), ` +
          'or keyPerTarget: true if every target brings its own apiKey',
      })
      expect(preset.make({ keyPerTarget: true }).id).toBe(id)
    },
  )

  it('names the preset and its own base URL when refusing an option', () => {
    unsetPresetVariables()
    const typo = configErrorOf(() =>
      groq({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k' } as OpenAICompatiblePresetOptions),
    )
    expect(typo).toMatchObject({ path: 'groq(options).baseUrl' })
    expect((typo as Error).message).toMatch(/did you mean "baseURL"\?$/)
    expect(configErrorOf(() => ollama({ baseURL: 'localhost:11434/v1' }))).toMatchObject({
      message:
        'ollama(options).baseURL: expected an http: or https: URL, such as "http://127.0.0.1:11434/v1"',
    })
  })

  it('keeps its own value for an option given as undefined', async () => {
    const fake = await server()
    unsetPresetVariables()
    const urls: string[] = []
    // As plain JavaScript passes it (`baseURL: process.env.GROQ_URL`); the type refuses it.
    const options: unknown = { apiKey: 'k', baseURL: undefined, fetch: redirectTo(fake, urls) }
    const provider = groq(options as OpenAICompatiblePresetOptions)
    await provider.complete(hi, context())
    expect(urls).toEqual(['https://api.groq.com/openai/v1/chat/completions'])
  })

  it.each(presets.flatMap((preset) => (preset.keyRequired ? [] : [[preset.id, preset] as const])))(
    '%s() sends no key when none is set',
    async (_id, preset) => {
      const fake = await server()
      unsetPresetVariables()
      await preset.make({ fetch: redirectTo(fake, []) }).complete(hi, context())
      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]?.headers.authorization).toBeUndefined()
    },
  )

  it.each(presets.map((preset) => [preset.id, preset.includeUsage, preset] as const))(
    '%s() asks streams for usage: %s',
    async (_id, _includeUsage, preset) => {
      const fake = await server()
      const provider = preset.make({ apiKey: 'key-stream', fetch: redirectTo(fake, []) })
      await collect(provider.stream(hi, context()))
      const body = fake.requests[0]?.body
      expect(body).toMatchObject({ stream: true })
      if (preset.includeUsage)
        expect(body).toMatchObject({ stream_options: { include_usage: true } })
      else expect(body).not.toHaveProperty('stream_options')
    },
  )

  it('takes every option of openaiCompatible over its own', async () => {
    const fake = await server()
    env({ GROQ_API_KEY: 'key-groq', GROQ_EU_KEY: 'key-groq-eu' })
    const eu = groq({
      id: 'groq-eu',
      baseURL: `${fake.url}/v1`,
      apiKeyEnv: 'GROQ_EU_KEY',
      includeUsage: false,
      headers: { 'x-region': 'eu' },
    })
    expect(eu.id).toBe('groq-eu')
    const client = createClient({ providers: [groq(), eu] })
    const response = await client.complete({ ...hi, model: 'groq-eu/llama-3.3-70b' })
    expect(response.provider).toBe('groq-eu')
    expect(fake.requests[0]?.headers).toMatchObject({
      authorization: 'Bearer key-groq-eu',
      'x-region': 'eu',
    })
    await collect(eu.stream(hi, context()))
    expect(fake.requests[1]?.body).not.toHaveProperty('stream_options')
  })
})
