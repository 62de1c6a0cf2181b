import {
  type ChatRequest,
  createClient,
  isUnderstudyError,
  type Message,
  stateOrigin,
} from '@understudy/core'
import { type ConformanceSetup, startFakeGemini } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { google } from './google-provider.js'
import { collect, context, env, rejection, server, thrownBy } from './test-support/harness.js'

const hi: ChatRequest = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }

/** The Gemini variables unset, so the machine running the tests cannot change them. */
function cleanEnv(): void {
  env({ GEMINI_API_KEY: '', GOOGLE_API_KEY: '', GOOGLE_GEMINI_BASE_URL: '' })
}

const conformance: ConformanceSetup = {
  provider: ({ baseURL, apiKey }) => google({ baseURL, apiKey }),
  startServer: startFakeGemini,
  baseURL: (fake) => `${fake.url}/v1beta`,
}

providerConformanceSuite('google()', conformance)

describe('google', () => {
  it('posts to models/{model}:generateContent with the key in x-goog-api-key, never in the URL', async () => {
    const fake = await server({
      respond: { text: 'OK.', usage: { inputTokens: 6, outputTokens: 2 } },
    })
    cleanEnv()
    const provider = google({ apiKey: 'key-g', baseURL: `${fake.url}/v1beta/` })
    const response = await provider.complete(hi, context())
    expect(response).toMatchObject({
      text: 'OK.',
      finishReason: 'stop',
      usage: { inputTokens: 6, outputTokens: 2, totalTokens: 8 },
      status: 200,
    })
    const [request] = fake.requests
    expect(request?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(request?.headers['x-goog-api-key']).toBe('key-g')
    expect(request?.query).toEqual({})
    expect(request?.headers.authorization).toBeUndefined()
    expect(request?.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] })
  })

  it('streams with alt=sse: text events, then a finish with the usage', async () => {
    const fake = await server({ respond: { text: 'one two three' } })
    const provider = google({ apiKey: 'key-g', baseURL: `${fake.url}/v1beta` })
    const events = await collect(provider.stream(hi, context()))
    expect(events.filter((event) => event.type === 'text').map((event) => event.text)).toEqual([
      'one ',
      'two ',
      'three',
    ])
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
    expect(fake.requests[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(fake.requests[0]?.query).toEqual({ alt: 'sse' })
  })

  it('answers a tool call with tool_calls and the signature for the same origin', async () => {
    const fake = await server({
      respond: { toolCalls: [{ name: 'weather', arguments: '{"city":"Oslo"}' }] },
    })
    const provider = google({ apiKey: 'key-g', baseURL: `${fake.url}/v1beta` })
    const response = await provider.complete(hi, context())
    expect(response.finishReason).toBe('tool_calls')
    expect(response.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^call_[\w-]+_0$/),
        name: 'weather',
        arguments: '{"city":"Oslo"}',
      },
    ])
    expect(response.message.providerState).toMatchObject({ provider: 'google' })
    const finish = (await collect(provider.stream(hi, context()))).at(-1)
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'tool_calls' })
    expect(finish?.type === 'finish' && finish.providerState?.origin).toBe(
      response.message.providerState?.origin,
    )
  })

  it('reads GEMINI_API_KEY, else GOOGLE_API_KEY, when made and again by each call', async () => {
    const fake = await server()
    cleanEnv()
    env({ GOOGLE_API_KEY: 'key-google', GOOGLE_GEMINI_BASE_URL: `${fake.url}/v1beta` })
    const provider = google()
    await provider.complete(hi, context())
    // Core keeps a hash of the key the provider uses, to tell its health records apart.
    expect(provider.configuredTarget?.()).toEqual({
      baseURL: `${fake.url}/v1beta`,
      apiKey: 'key-google',
    })
    env({ GEMINI_API_KEY: 'key-gemini' })
    expect(provider.configuredTarget?.()?.apiKey).toBe('key-gemini')
    await provider.complete(hi, context())
    expect(fake.requests.map((request) => request.headers['x-goog-api-key'])).toEqual([
      'key-google',
      'key-gemini',
    ])
  })

  it('throws a ConfigError for an unknown option, a bad base URL or no key at all', () => {
    cleanEnv()
    const misspelled = thrownBy(() => google({ apiKey: 'k', baseUrl: 'http://x' } as never))
    expect(isUnderstudyError(misspelled, 'config')).toBe(true)
    expect((misspelled as Error).message).toContain('baseURL')
    const url = thrownBy(() =>
      google({ apiKey: 'k', baseURL: 'generativelanguage.googleapis.com' }),
    )
    expect(isUnderstudyError(url, 'config')).toBe(true)
    const none = thrownBy(() => google())
    expect(isUnderstudyError(none, 'config')).toBe(true)
    expect((none as Error).message).toContain('GEMINI_API_KEY')
    expect(() => google({ keyPerTarget: true })).not.toThrow()
  })

  it('sends a target that brings its own base URL and no key no key at all (rule 2)', async () => {
    const fake = await server()
    const provider = google({ apiKey: 'configured-key' })
    await provider.complete(hi, context({ baseURL: `${fake.url}/v1beta` }))
    expect(fake.requests[0]?.headers['x-goog-api-key']).toBeUndefined()
  })

  it('fails what Gemini cannot express before any I/O with kind unsupported', async () => {
    const fake = await server()
    const provider = google({ apiKey: 'key-g', baseURL: `${fake.url}/v1beta` })
    const request = { ...hi, user: 'end-user-1' }
    expect(
      isUnderstudyError(await rejection(provider.complete(request, context())), 'unsupported'),
    ).toBe(true)
    const streamed = await rejection(collect(provider.stream(request, context())))
    expect(isUnderstudyError(streamed, 'unsupported')).toBe(true)
    expect(fake.requests).toHaveLength(0)
  })

  it.each([
    [{ status: 429, retryAfterMs: 2_000 }, 'rate_limit', 2_000],
    [{ status: 503 }, 'overloaded', undefined],
    [{ status: 403 }, 'auth', undefined],
    [{ status: 404 }, 'not_found', undefined],
  ] as const)('fails the fake answering %o with kind %s', async (reply, kind, retryAfterMs) => {
    const fake = await server({ respond: reply })
    const provider = google({ apiKey: 'key-secret-123', baseURL: `${fake.url}/v1beta` })
    const error = await rejection(provider.complete(hi, context()))
    expect(isUnderstudyError(error, kind)).toBe(true)
    if (retryAfterMs !== undefined)
      expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs)
    expect(JSON.stringify(error)).not.toContain('key-secret-123')
  })

  it('fails a stream cut before its finishReason with kind incomplete, and an in-band error with its kind', async () => {
    const fake = await server()
    fake.script('cut', { fault: 'no-terminal' })
    fake.script('broken', { fault: 'in-band-error', afterEvents: 1 })
    const provider = google({ apiKey: 'key-g', baseURL: `${fake.url}/v1beta` })
    const cut = await rejection(collect(provider.stream({ ...hi, model: 'cut' }, context())))
    expect(isUnderstudyError(cut, 'incomplete')).toBe(true)
    const broken = await rejection(collect(provider.stream({ ...hi, model: 'broken' }, context())))
    expect(isUnderstudyError(broken, 'overloaded')).toBe(true)
  })
})

describe('google() in a chain that moves from one Gemini key to another', () => {
  const model = 'gemini-3-pro-preview'
  const weather = [
    {
      name: 'weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ]

  it.each([
    ['complete', false],
    ['stream', true],
  ] as const)(
    'succeeds with tool-call history signed by the first key (%s)',
    async (_, streaming) => {
      const fake = await server()
      // 1: key A calls the tool (signed for key A). 2: key A, the same origin, gets its signature back
      // and is down (503). 3: key B gets the history without key A's signature and answers.
      fake.script(
        model,
        { toolCalls: [{ name: 'weather', arguments: '{"city":"Oslo"}' }] },
        { status: 503 },
        { text: 'Sunny in Oslo.' },
      )
      const client = createClient({
        providers: [google({ apiKey: 'key-a', baseURL: `${fake.url}/v1beta` })],
        retries: 0,
        health: { cooldownMs: 0 },
      })
      const ask = {
        model: `google/${model}`,
        messages: [{ role: 'user' as const, content: 'Weather in Oslo?' }],
        tools: weather,
      }
      // A stream's answer carries the signatures on its response's message as complete()'s does.
      const first = streaming ? await client.stream(ask).response : await client.complete(ask)
      expect(first.message.providerState?.provider).toBe('google')
      const call = first.toolCalls[0]
      expect(call?.name).toBe('weather')
      const messages: Message[] = [
        { role: 'user', content: 'Weather in Oslo?' },
        first.message,
        { role: 'tool', toolCallId: call?.id ?? '', content: 'Sunny' },
      ]
      const request = { model: `google/${model}`, messages, tools: weather }
      const fallbacks = [
        { model: `google/${model}`, apiKey: 'key-b', baseURL: `${fake.url}/v1beta` },
      ]
      let text: string
      if (streaming) {
        const stream = client.stream(request, { fallbacks })
        text = (await stream.response).text
      } else {
        text = (await client.complete(request, { fallbacks })).text
      }
      expect(text).toBe('Sunny in Oslo.')
      const [, sameOrigin, otherKey] = fake.requests
      const signatureOf = (body: unknown): unknown =>
        (body as { contents: { parts: { thoughtSignature?: string }[] }[] }).contents[1]?.parts[0]
          ?.thoughtSignature
      expect(signatureOf(sameOrigin?.body)).toMatch(/^Fk/)
      expect(signatureOf(otherKey?.body)).toBe('skip_thought_signature_validator')
      expect(otherKey?.headers['x-goog-api-key']).toBe('key-b')
      expect((otherKey?.body as { contents: unknown[] } | undefined)?.contents[2]).toEqual({
        role: 'user',
        parts: [{ functionResponse: { name: 'weather', response: { output: 'Sunny' } } }],
      })
    },
  )

  it('needs the stripping: a foreign signature sent is the real 400, an invalid_request that stops a chain', async () => {
    const fake = await server()
    const baseURL = `${fake.url}/v1beta`
    const provider = google({ apiKey: 'key-b', baseURL })
    const signedBy = (apiKey: string): Message => ({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'c', name: 'weather', arguments: '{}' }],
      providerState: {
        provider: 'google',
        origin: stateOrigin({ provider: 'google', model, baseURL, apiKey }),
        // A signature key A's answer carried: not one key B's model issued.
        data: { calls: ['Fk-signed-for-key-a'] },
      },
    })
    const history = (turn: Message): ChatRequest => ({
      model,
      messages: [
        { role: 'user', content: 'q' },
        turn,
        { role: 'tool', toolCallId: 'c', content: 'x' },
      ],
    })
    // State claiming key B's own origin is sent back as it is, and the fake refuses it as Gemini does.
    const refused = await rejection(provider.complete(history(signedBy('key-b')), context()))
    expect(isUnderstudyError(refused, 'invalid_request')).toBe(true)
    expect((refused as Error).message).toContain('Corrupted thought signature.')
    expect((refused as { status?: number }).status).toBe(400)
    // State from key A is dropped: the call goes through.
    const response = await provider.complete(history(signedBy('key-a')), context())
    expect(response.text).not.toBe('')
  })
})
