import { type ChatRequest, createClient, isUnderstudyError } from '@understudy/core'
import { startFakeAnthropic } from '@understudy/testkit'
import { providerConformanceSuite } from '@understudy/testkit/vitest'
import { describe, expect, it } from 'vitest'
import { anthropic } from './anthropic-provider.js'
import { collect, context, env, rejection, server } from './test-support/harness.js'

const model = 'claude-sonnet-4-5'
const hi: ChatRequest = { model, messages: [{ role: 'user', content: 'hi' }] }

// The suite's requests set `temperature`, which the default version (2026-10-21)
// rejects before any I/O as `unsupported`: it runs on the version that takes it.
providerConformanceSuite('anthropic({ version: "2023-06-01" })', {
  provider: ({ baseURL, apiKey }) => anthropic({ baseURL, apiKey, version: '2023-06-01' }),
  startServer: startFakeAnthropic,
  baseURL: (fake) => fake.url,
  model,
})

/** The `messages` of a recorded request body. */
function messagesOf(body: unknown): readonly { readonly content: unknown }[] {
  const list = typeof body === 'object' && body !== null ? Reflect.get(body, 'messages') : undefined
  return Array.isArray(list) ? list : []
}

/** The config error `make` throws, checked to be one. */
function configErrorOf(make: () => unknown): Error {
  try {
    make()
  } catch (error) {
    expect(isUnderstudyError(error, 'config')).toBe(true)
    return error as Error
  }
  throw new Error('expected a throw')
}

describe('anthropic', () => {
  it('completes over the wire with x-api-key, the version and the mapped body', async () => {
    const fake = await server()
    fake.script(model, { text: 'Hello there.', usage: { inputTokens: 3, outputTokens: 2 } })
    const provider = anthropic({
      apiKey: 'sk-ant-1',
      baseURL: fake.url,
      headers: { 'X-Team': 'blue' },
    })
    const response = await provider.complete(
      { ...hi, messages: [{ role: 'system', content: 'Be brief.' }, ...hi.messages] },
      context(),
    )
    expect(response).toMatchObject({
      text: 'Hello there.',
      finishReason: 'stop',
      usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      status: 200,
    })
    expect(response.requestId).toMatch(/^req_/)
    const [request] = fake.requests
    expect(request?.path).toBe('/v1/messages')
    expect(request?.headers).toMatchObject({
      'x-api-key': 'sk-ant-1',
      'anthropic-version': '2026-10-21',
      'x-team': 'blue',
    })
    expect(request?.headers.authorization).toBeUndefined()
    expect(request?.body).toEqual({
      model,
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'hi' }],
    })
  })

  it('sends an auth token as a bearer token, never with x-api-key', async () => {
    const fake = await server()
    const provider = anthropic({ authToken: 'tok-1', baseURL: `${fake.url}/v1` })
    await provider.complete(hi, context())
    const [request] = fake.requests
    // A base URL ending in /v1 is taken as the SDK's would be.
    expect(request?.path).toBe('/v1/messages')
    expect(request?.headers.authorization).toBe('Bearer tok-1')
    expect(request?.headers['x-api-key']).toBeUndefined()
  })

  it('reads ANTHROPIC_API_KEY, else ANTHROPIC_AUTH_TOKEN, on each call', async () => {
    const fake = await server()
    env({ ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: 'tok-env', ANTHROPIC_BASE_URL: fake.url })
    const provider = anthropic()
    await provider.complete(hi, context())
    // Core keeps a hash of the credential the provider uses, to tell its health records apart.
    expect(provider.configuredTarget?.()).toEqual({ baseURL: fake.url, apiKey: 'tok-env' })
    env({ ANTHROPIC_API_KEY: 'key-env' })
    expect(provider.configuredTarget?.()?.apiKey).toBe('key-env')
    await provider.complete(hi, context())
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer tok-env')
    expect(fake.requests[1]?.headers['x-api-key']).toBe('key-env')
    expect(fake.requests[1]?.headers.authorization).toBeUndefined()
  })

  it('sends a target its own key as x-api-key, and the configured one nowhere else', async () => {
    const fake = await server()
    const provider = anthropic({ authToken: 'tok-configured', keyPerTarget: false })
    await provider.complete(hi, context({ baseURL: fake.url, apiKey: 'key-target' }))
    await provider.complete(hi, context({ baseURL: fake.url }))
    expect(fake.requests[0]?.headers['x-api-key']).toBe('key-target')
    expect(fake.requests[0]?.headers.authorization).toBeUndefined()
    // Another base URL without its own key gets no key at all (DESIGN.md rule 2).
    expect(fake.requests[1]?.headers['x-api-key']).toBeUndefined()
    expect(fake.requests[1]?.headers.authorization).toBeUndefined()
  })

  it('refuses both apiKey and authToken, an unknown option, a bad version or maxTokens', () => {
    env({ ANTHROPIC_API_KEY: 'k' })
    expect(configErrorOf(() => anthropic({ apiKey: 'a', authToken: 'b' })).message).toMatch(
      /authToken: give apiKey or authToken, not both/,
    )
    expect(
      configErrorOf(() => anthropic({ baseUrl: 'http://x' } as Record<string, string>)).message,
    ).toMatch(/did you mean "baseURL"/)
    expect(
      configErrorOf(() =>
        anthropic({ version: '2024-01-01' } as unknown as { version: '2023-06-01' }),
      ).message,
    ).toMatch(/version: expected one of "2023-06-01", "2026-10-21"/)
    expect(configErrorOf(() => anthropic({ maxTokens: 0 })).message).toMatch(/maxTokens/)
    expect(configErrorOf(() => anthropic({ baseURL: 'api.anthropic.com' })).message).toMatch(
      /baseURL/,
    )
  })

  it('refuses to be made when no credential can ever be found, saying how to fix it', () => {
    env({ ANTHROPIC_API_KEY: '', ANTHROPIC_AUTH_TOKEN: '' })
    expect(configErrorOf(() => anthropic()).message).toMatch(
      /set ANTHROPIC_API_KEY or pass apiKey to anthropic\(\)/,
    )
    expect(() => anthropic({ keyPerTarget: true })).not.toThrow()
  })

  it('sends maxTokens from the request, else the provider option', async () => {
    const fake = await server()
    const provider = anthropic({ apiKey: 'k', baseURL: fake.url, maxTokens: 77 })
    await provider.complete(hi, context())
    await provider.complete({ ...hi, maxTokens: 9 }, context())
    expect(fake.requests[0]?.body).toMatchObject({ max_tokens: 77 })
    expect(fake.requests[1]?.body).toMatchObject({ max_tokens: 9 })
  })

  describe('API versions', () => {
    it('fails temperature under 2026-10-21 as unsupported before any I/O', async () => {
      const fake = await server()
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const error = await rejection(provider.complete({ ...hi, temperature: 0 }, context()))
      expect(isUnderstudyError(error, 'unsupported')).toBe(true)
      expect(String((error as Error).message)).toMatch(/temperature \(temperature\).*2026-10-21/)
      expect(fake.requests).toHaveLength(0)
    })

    it('sends temperature, top_p and top_k under 2023-06-01', async () => {
      const fake = await server()
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url, version: '2023-06-01' })
      const response = await provider.complete(
        { ...hi, temperature: 0.2, topP: 0.9, topK: 5 },
        context(),
      )
      expect(response.finishReason).toBe('stop')
      expect(fake.requests[0]?.headers['anthropic-version']).toBe('2023-06-01')
      expect(fake.requests[0]?.body).toMatchObject({ temperature: 0.2, top_p: 0.9, top_k: 5 })
    })

    it('moves a chain on from a 2026-10-21 target when the request sets temperature', async () => {
      const current = await server()
      const older = await server()
      const client = createClient({
        providers: [
          anthropic({ apiKey: 'k', baseURL: current.url }),
          {
            ...anthropic({ apiKey: 'k', baseURL: older.url, version: '2023-06-01' }),
            id: 'claude-old',
          },
        ],
      })
      const response = await client.complete(
        { model: `anthropic/${model}`, messages: hi.messages, temperature: 0 },
        {
          fallbacks: [
            `claude-old/${model}`,
            { model: `anthropic/${model}`, unset: ['temperature'] },
          ],
        },
      )
      expect(response.target).toBe(`claude-old/${model}`)
      expect(response.attempts[0]?.error?.kind).toBe('unsupported')
      expect(current.requests).toHaveLength(0)
    })

    it('lets a target unset temperature to reach a 2026-10-21 model', async () => {
      const fake = await server()
      const client = createClient({ providers: [anthropic({ apiKey: 'k', baseURL: fake.url })] })
      const response = await client.complete(
        { model: `anthropic/${model}`, messages: hi.messages, temperature: 0 },
        // Another key makes it another target: one target gets one attempt per call.
        { fallbacks: [{ model: `anthropic/${model}`, apiKey: 'k2', unset: ['temperature'] }] },
      )
      expect(response.attempts.map((attempt) => attempt.outcome)).toEqual(['error', 'ok'])
      expect(fake.requests).toHaveLength(1)
      expect(fake.requests[0]?.body).not.toHaveProperty('temperature')
    })
  })

  describe('responses', () => {
    it('maps tool calls, reasoning and signed thinking into the message', async () => {
      const fake = await server()
      fake.script(model, {
        reasoning: 'Check the weather.',
        text: 'Let me look.',
        toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      })
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const response = await provider.complete(hi, context())
      expect(response).toMatchObject({
        text: 'Let me look.',
        reasoning: 'Check the weather.',
        finishReason: 'tool_calls',
        toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      })
      expect(response.message.providerState).toMatchObject({
        provider: 'anthropic',
        data: { thinking: [{ type: 'thinking', thinking: 'Check the weather.' }] },
      })
    })

    it('sends signed thinking back to the same origin only', async () => {
      const fake = await server()
      fake.script(model, { reasoning: 'Think.', text: 'Done.' })
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const first = await provider.complete(hi, context())
      const next: ChatRequest = {
        ...hi,
        messages: [...hi.messages, first.message, { role: 'user', content: 'again' }],
      }
      await provider.complete(next, context())
      await provider.complete({ ...next, model: 'claude-other' }, context())
      const replayed = messagesOf(fake.requests[1]?.body)[1]
      expect(replayed?.content).toEqual([
        { type: 'thinking', thinking: 'Think.', signature: expect.any(String) },
        { type: 'text', text: 'Done.' },
      ])
      const dropped = messagesOf(fake.requests[2]?.body)[1]
      expect(dropped?.content).toBe('Done.')
    })

    it.each([
      ['model_context_window_exceeded', 'length'],
      ['max_tokens', 'length'],
      ['stop_sequence', 'stop'],
      ['pause_turn', 'other'],
    ] as const)('maps stop_reason %s to %s', async (stopReason, finishReason) => {
      const fake = await server()
      fake.script(model, { text: 'Cut', stopReason })
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      expect((await provider.complete(hi, context())).finishReason).toBe(finishReason)
      expect((await collect(provider.stream(hi, context()))).at(-1)).toMatchObject({
        type: 'finish',
        finishReason,
      })
    })

    it('moves a refusal to the content-policy chain, like a content_filter', async () => {
      const refusing = await server()
      const backup = await server()
      refusing.script(model, { text: '', finishReason: 'content_filter' })
      const client = createClient({
        providers: [
          anthropic({ apiKey: 'k', baseURL: refusing.url }),
          { ...anthropic({ apiKey: 'k', baseURL: backup.url }), id: 'backup' },
        ],
      })
      const response = await client.complete(
        { model: `anthropic/${model}`, messages: hi.messages },
        { contentPolicyFallbacks: [`backup/${model}`] },
      )
      expect(response.target).toBe(`backup/${model}`)
      expect(response.attempts[0]?.error?.kind).toBe('content_policy')

      const streamed = client.stream(
        { model: `anthropic/${model}`, messages: hi.messages },
        { contentPolicyFallbacks: [`backup/${model}`] },
      )
      expect((await streamed.response).target).toBe(`backup/${model}`)
    })

    it('ends a stream refused after its first token as stream_interrupted, partial exact', async () => {
      const fake = await server()
      fake.script(model, { chunks: ['I can ', 'help with'], finishReason: 'content_filter' })
      const client = createClient({ providers: [anthropic({ apiKey: 'k', baseURL: fake.url })] })
      const stream = client.stream({ model: `anthropic/${model}`, messages: hi.messages })
      let text = ''
      const error = await rejection(
        (async () => {
          for await (const event of stream) if (event.type === 'text') text += event.text
        })(),
      )
      expect(isUnderstudyError(error, 'stream_interrupted')).toBe(true)
      const interrupted = error as { partial: { text: string }; cause: unknown }
      expect(interrupted.partial.text).toBe('I can help with')
      expect(text).toBe('I can help with')
      expect(isUnderstudyError(interrupted.cause, 'content_policy')).toBe(true)
    })
  })

  describe('streams', () => {
    it('streams text, reasoning and tool-call deltas, then a finish with usage and state', async () => {
      const fake = await server()
      fake.script(model, {
        reasoning: 'Hmm.',
        text: 'On it.',
        toolCalls: [{ id: 'toolu_9', name: 'lookup', arguments: '{"q":"a long query text"}' }],
        usage: { inputTokens: 10, outputTokens: 4 },
      })
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const events = await collect(provider.stream(hi, context()))
      expect(
        events
          .filter((e) => e.type === 'reasoning')
          .map((e) => e.text)
          .join(''),
      ).toBe('Hmm.')
      expect(
        events
          .filter((e) => e.type === 'text')
          .map((e) => e.text)
          .join(''),
      ).toBe('On it.')
      const calls = events.filter((e) => e.type === 'tool-call-delta')
      expect(calls[0]).toEqual({
        type: 'tool-call-delta',
        index: 0,
        id: 'toolu_9',
        name: 'lookup',
        argumentsDelta: '',
      })
      expect(calls.map((e) => e.argumentsDelta).join('')).toBe('{"q":"a long query text"}')
      const finish = events.at(-1)
      expect(finish).toMatchObject({
        type: 'finish',
        finishReason: 'tool_calls',
        usage: { inputTokens: 10, outputTokens: 4 },
        providerState: { provider: 'anthropic' },
      })
      expect(fake.requests[0]?.body).toMatchObject({ stream: true })
      expect(fake.requests[0]?.headers.accept).toBe('text/event-stream')
    })

    it('falls back from an in-band overloaded_error before the first token', async () => {
      const primary = await server({ respond: { fault: 'in-band-error', afterEvents: 1 } })
      const backup = await server({ respond: { chunks: ['From ', 'the backup.'] } })
      const client = createClient({
        providers: [
          anthropic({ apiKey: 'k', baseURL: primary.url }),
          { ...anthropic({ apiKey: 'k', baseURL: backup.url }), id: 'backup' },
        ],
        retries: 0,
      })
      const stream = client.stream(
        { model: `anthropic/${model}`, messages: hi.messages },
        { fallbacks: [`backup/${model}`] },
      )
      let text = ''
      for await (const event of stream) if (event.type === 'text') text += event.text
      const response = await stream.response
      expect(text).toBe('From the backup.')
      expect(response.attempts.map((attempt) => attempt.error?.kind)).toEqual([
        'overloaded',
        undefined,
      ])
    })

    it('classifies an in-band overloaded_error and a body without message_stop', async () => {
      const fake = await server()
      fake.script(model, { fault: 'in-band-error', afterEvents: 1 }, { fault: 'no-terminal' })
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const inBand = await rejection(collect(provider.stream(hi, context())))
      expect(isUnderstudyError(inBand, 'overloaded')).toBe(true)
      const cut = await rejection(collect(provider.stream(hi, context())))
      expect(isUnderstudyError(cut, 'incomplete')).toBe(true)
    })
  })

  describe('errors', () => {
    it.each([
      [429, 'rate_limit'],
      [529, 'overloaded'],
      [500, 'server'],
      [401, 'auth'],
      [403, 'auth'],
      [404, 'not_found'],
      [413, 'context_window'],
      [400, 'invalid_request'],
      [402, 'quota'],
    ] as const)('classifies a %i as %s, with the request id', async (status, kind) => {
      const fake = await server({ respond: { status } })
      const provider = anthropic({ apiKey: 'sk-ant-secret', baseURL: fake.url })
      const error = await rejection(provider.complete(hi, context()))
      expect(isUnderstudyError(error, kind)).toBe(true)
      expect(error).toMatchObject({ status, provider: 'anthropic', model })
      expect((error as { requestId?: string }).requestId).toMatch(/^req_/)
      expect(JSON.stringify(error)).not.toContain('sk-ant-secret')
    })

    it('waits as retry-after says, else until the exhausted limits reset', async () => {
      const fake = await server()
      const reset = new Date(Date.now() + 20_000).toISOString()
      fake.script(
        model,
        { status: 429, retryAfter: '16' },
        {
          status: 429,
          headers: {
            'anthropic-ratelimit-requests-remaining': '0',
            'anthropic-ratelimit-requests-reset': reset,
            'anthropic-ratelimit-tokens-remaining': '500',
            'anthropic-ratelimit-tokens-reset': new Date(Date.now() + 60_000).toISOString(),
          },
        },
      )
      const provider = anthropic({ apiKey: 'k', baseURL: fake.url })
      const first = await rejection(provider.complete(hi, context()))
      expect(first).toMatchObject({ kind: 'rate_limit', retryAfterMs: 16_000 })
      const second = (await rejection(provider.complete(hi, context()))) as { retryAfterMs: number }
      expect(second.retryAfterMs).toBeGreaterThan(15_000)
      expect(second.retryAfterMs).toBeLessThanOrEqual(20_000)
    })

    it('times out an attempt on the client deadline', async () => {
      const fake = await server({ respond: { fault: 'hang' } })
      const client = createClient({ providers: [anthropic({ apiKey: 'k', baseURL: fake.url })] })
      const error = await rejection(
        client.complete(
          { model: `anthropic/${model}`, messages: hi.messages },
          {
            attemptTimeoutMs: 50,
            retries: 0,
          },
        ),
      )
      expect(error).toMatchObject({ kind: 'all_failed' })
      expect((error as { attempts: { error?: { kind: string } }[] }).attempts[0]?.error?.kind).toBe(
        'timeout',
      )
    })
  })
})
