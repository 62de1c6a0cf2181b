import { type ChatRequest, type ErrorKind, isUnderstudyError } from '@understudy/core'
import { fixtureReply, startFakeOpenAI } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import type { FetchFunction } from '@understudy/provider-kit'
import { Agent } from 'undici'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { type OpenAIProviderOptions, openai } from './openai-provider.js'

import { collect, configErrorOf, context, env, rejection, server } from './test-support/harness.js'

const fixtures = new URL('../../../fixtures/', import.meta.url)
const hi: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }

providerConformanceSuite('openai()', {
  provider: ({ baseURL, apiKey }) => openai({ baseURL, apiKey }),
  startServer: startFakeOpenAI,
  baseURL: (fake) => `${fake.url}/v1`,
})

describe('openai', () => {
  it('completes over the wire with the key, organization, project and headers', async () => {
    const fake = await server()
    fake.script('gpt-4o', { text: 'Hello there.', usage: { inputTokens: 3, outputTokens: 2 } })
    const provider = openai({
      apiKey: 'sk-test-1',
      baseURL: `${fake.url}/v1`,
      organization: 'org-1',
      project: 'proj-1',
      headers: { 'X-Team': 'blue' },
    })
    const response = await provider.complete({ ...hi, temperature: 0 }, context())
    expect(response.text).toBe('Hello there.')
    expect(response.finishReason).toBe('stop')
    expect(response.usage).toMatchObject({ inputTokens: 3, outputTokens: 2 })
    const [request] = fake.requests
    expect(request?.path).toBe('/v1/chat/completions')
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer sk-test-1',
      'openai-organization': 'org-1',
      'openai-project': 'proj-1',
      'x-team': 'blue',
    })
    expect(request?.body).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
    })
  })

  it('streams with usage requested and a finish event last', async () => {
    const fake = await server()
    fake.script('gpt-4o', { text: 'One two three.', usage: { inputTokens: 5, outputTokens: 3 } })
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1` })
    const events = await collect(provider.stream(hi, context()))
    const text = events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('')
    expect(text).toBe('One two three.')
    expect(events.at(-1)).toMatchObject({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 5, outputTokens: 3 },
    })
    expect(fake.requests[0]?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('fails a request with topK before any I/O, with kind unsupported naming it', async () => {
    const fake = await server()
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1` })
    const error = await rejection(provider.complete({ ...hi, topK: 40 }, context()))
    expect(isUnderstudyError(error, 'unsupported')).toBe(true)
    expect(error).toMatchObject({ message: expect.stringContaining('topK') })
    const streamError = await rejection(collect(provider.stream({ ...hi, topK: 40 }, context())))
    expect(isUnderstudyError(streamError, 'unsupported')).toBe(true)
    expect(fake.requests).toHaveLength(0)
  })

  it('reads OPENAI_API_KEY when made, and again by each call', async () => {
    const fake = await server()
    env({ OPENAI_API_KEY: 'sk-env-1' })
    const provider = openai({ baseURL: `${fake.url}/v1` })
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-env-1')
    // Core keeps a hash of the key the provider uses, to tell its health records apart.
    expect(provider.configuredTarget?.()).toEqual({ baseURL: `${fake.url}/v1`, apiKey: 'sk-env-1' })
    // A rotated key is used by the next call.
    vi.stubEnv('OPENAI_API_KEY', 'sk-env-2')
    expect(provider.configuredTarget?.()?.apiKey).toBe('sk-env-2')
    await provider.complete(hi, context())
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer sk-env-2')
    // A key unset after the provider was made fails that call, saying how to fix it.
    vi.stubEnv('OPENAI_API_KEY', '')
    const missing = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(missing, 'auth')).toBe(true)
    expect(missing).toMatchObject({
      message:
        'openai/gpt-4o: no API key: set OPENAI_API_KEY or pass apiKey to openai(), ' +
        'or give the target its own apiKey',
    })
    expect(fake.requests).toHaveLength(2)
  })

  it('throws a config error when made with no key to be found, saying how to give one', () => {
    env({ OPENAI_API_KEY: '' })
    const error = configErrorOf(() => openai())
    expect(error).toMatchObject({
      path: 'openai(options).apiKey',
      message:
        'openai(options).apiKey: no API key: set OPENAI_API_KEY or pass apiKey to openai(), ' +
        'or keyPerTarget: true if every target brings its own apiKey',
    })
  })

  it('needs no key when made with keyPerTarget, and sends each target its own', async () => {
    const fake = await server()
    env({ OPENAI_API_KEY: '' })
    const provider = openai({ baseURL: `${fake.url}/v1`, keyPerTarget: true })
    await provider.complete(hi, context({ apiKey: 'sk-target' }))
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sk-target')
    const missing = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(missing, 'auth')).toBe(true)
    expect(missing).toMatchObject({
      message: expect.stringContaining('set OPENAI_API_KEY or pass apiKey to openai()'),
    })
    expect(fake.requests).toHaveLength(1)
  })

  it('refuses a misspelled baseURL instead of sending the OPENAI_API_KEY key to api.openai.com', async () => {
    const fake = await server()
    env({ OPENAI_API_KEY: 'sk-env-secret' })
    const urls: string[] = []
    const authorizations: (string | null)[] = []
    // Records where each request would go, and answers from the fake server instead.
    const recording: FetchFunction = (url, init) => {
      urls.push(url)
      authorizations.push(new Headers(init.headers).get('authorization'))
      return fetch(`${fake.url}/v1/chat/completions`, init)
    }
    // As plain JavaScript passes it: the type would refuse `baseUrl`.
    const options: unknown = { baseUrl: `${fake.url}/v1`, fetch: recording }
    let thrown: unknown
    try {
      const provider = openai(options as OpenAIProviderOptions)
      await provider.complete(hi, context())
    } catch (error) {
      thrown = error
    }
    expect(urls).toEqual([])
    expect(authorizations).toEqual([])
    expect(isUnderstudyError(thrown, 'config')).toBe(true)
    expect(thrown).toMatchObject({ path: 'openai(options).baseUrl' })
    expect((thrown as Error).message).toMatch(
      /; received unknown option "baseUrl"; did you mean "baseURL"\?$/,
    )
  })

  it('refuses a misspelled apiKey, naming the option meant and not the key', () => {
    env({ OPENAI_API_KEY: '' })
    const error = configErrorOf(() => openai({ apikey: 'sk-typo-secret' } as OpenAIProviderOptions))
    expect(error).toMatchObject({ path: 'openai(options).apikey' })
    expect((error as Error).message).toMatch(/did you mean "apiKey"\?$/)
    expect((error as Error).message).not.toContain('sk-typo-secret')
  })

  it('refuses a key passed in place of the options, without showing it', () => {
    const error = configErrorOf(() => openai('sk-positional-secret' as OpenAIProviderOptions))
    expect(error).toMatchObject({
      path: 'openai(options)',
      message: 'openai(options): expected an options object',
    })
  })

  it('refuses a base URL without a scheme when made, before any request', () => {
    const error = configErrorOf(() => openai({ apiKey: 'sk-test-1', baseURL: 'localhost:8080/v1' }))
    expect(error).toMatchObject({
      path: 'openai(options).baseURL',
      message:
        'openai(options).baseURL: expected an http: or https: URL, such as "https://api.openai.com/v1"',
    })
  })

  it('refuses an OPENAI_BASE_URL that is not an http: or https: URL, naming the variable', () => {
    env({ OPENAI_BASE_URL: 'localhost:8080/v1' })
    const error = configErrorOf(() => openai({ apiKey: 'sk-test-1' }))
    expect(error).toMatchObject({
      path: 'OPENAI_BASE_URL',
      message:
        'OPENAI_BASE_URL: expected an http: or https: URL, such as "https://api.openai.com/v1"',
    })
  })

  it('takes every option its type documents', () => {
    const dispatcher = new Agent()
    onTestFinished(() => dispatcher.close())
    const every: Required<OpenAIProviderOptions> = {
      apiKey: 'sk-test-1',
      keyPerTarget: false,
      baseURL: 'http://127.0.0.1:9/v1',
      organization: 'org-1',
      project: 'proj-1',
      headers: { 'x-team': 'blue' },
      dispatcher,
      fetch,
    }
    expect(openai(every).id).toBe('openai')
  })

  it('takes its base URL from OPENAI_BASE_URL', async () => {
    const fake = await server()
    vi.stubEnv('OPENAI_BASE_URL', `${fake.url}/v1`)
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    await openai({ apiKey: 'sk-test-1' }).complete(hi, context())
    expect(fake.requests).toHaveLength(1)
  })

  it('sends no configured key to a target with its own base URL and no key', async () => {
    const fake = await server()
    const provider = openai({ apiKey: 'sk-configured', baseURL: 'http://127.0.0.1:9/v1' })
    await provider.complete(hi, context({ baseURL: `${fake.url}/v1` }))
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
    await provider.complete(hi, context({ baseURL: `${fake.url}/v1`, apiKey: 'sk-target' }))
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer sk-target')
  })

  it('keeps the headers it was given, whatever the caller does to them later', async () => {
    const fake = await server()
    const headers: Record<string, string> = { 'x-team': 'blue' }
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1`, headers })
    headers['x-team'] = 'red'
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers['x-team']).toBe('blue')
  })

  it.each([
    ['openai/error-429-insufficient-quota.json', 'quota'],
    ['openai/error-429-rate-limit-exceeded-tokens.json', 'rate_limit'],
    ['openai/error-400-context-length-exceeded.json', 'context_window'],
    ['openai/error-404-model-not-found.json', 'not_found'],
    ['openai/error-503-model-overloaded.json', 'overloaded'],
    ['azure/error-400-content-filter.json', 'content_policy'],
    ['other/vllm-400-context-length.json', 'context_window'],
  ] as [string, ErrorKind][])('rejects a recorded %s as kind %s', async (file, kind) => {
    const fake = await server()
    fake.script('gpt-4o', fixtureReply(new URL(file, fixtures)))
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1` })
    const error = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(error, kind)).toBe(true)
  })

  it('streams a recorded tool-call stream into tool-call deltas', async () => {
    const fake = await server()
    fake.script('gpt-4o', fixtureReply(new URL('openai/stream-tool-call.sse', fixtures)))
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1` })
    const events = await collect(provider.stream(hi, context()))
    const args = events.flatMap((event) =>
      event.type === 'tool-call-delta' ? [event.argumentsDelta] : [],
    )
    expect(args.join('')).toBe('{"city":"Mexico City"}')
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool_calls' })
  })

  it('fails a recorded in-band error stream with its kind', async () => {
    const fake = await server()
    const file = 'other/sglang-stream-context-length-error.sse'
    fake.script('gpt-4o', fixtureReply(new URL(file, fixtures)))
    const provider = openai({ apiKey: 'sk-test-1', baseURL: `${fake.url}/v1` })
    const error = await rejection(collect(provider.stream(hi, context())))
    expect(isUnderstudyError(error, 'context_window')).toBe(true)
  })
})
