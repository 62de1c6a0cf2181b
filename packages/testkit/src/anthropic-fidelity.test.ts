import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from '@anthropic-ai/sdk'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServerOptions } from './fake-server.js'
import { startFakeAnthropic } from './start-fake-anthropic.js'

// Not a real model id: the SDK prints a console warning for each call to a
// model on its deprecation list, and any real id ends up there.
const model = 'claude-fidelity-test'
const messages = [{ role: 'user' as const, content: 'What is the weather in Paris?' }]
const tools = [
  {
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: {
      type: 'object' as const,
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
]

/** A fake server and the official SDK pointed at it, both closed when the test ends. */
async function setup(options?: FakeServerOptions) {
  const server = await startFakeAnthropic(options)
  onTestFinished(() => server.close())
  const client = new Anthropic({ baseURL: server.url, apiKey: 'test-key', maxRetries: 0 })
  return { server, client }
}

/** The error a call rejects with, for assertions on its class and fields. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => {
      throw new Error('expected the call to fail')
    },
    (error: unknown) => error,
  )
}

describe('the fake Anthropic server, read by @anthropic-ai/sdk', () => {
  it('answers messages.create with text, usage and stop_reason', async () => {
    const { server, client } = await setup({
      respond: { text: 'Sunny, 24 degrees.', usage: { inputTokens: 14, outputTokens: 7 } },
    })
    const message = await client.messages.create({ model, max_tokens: 256, messages })

    expect(message.content).toEqual([{ type: 'text', text: 'Sunny, 24 degrees.' }])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage.input_tokens).toBe(14)
    expect(message.usage.output_tokens).toBe(7)
    expect(message.model).toBe(model)
    expect(message.id).toMatch(/^msg_/)
    expect(message._request_id).toMatch(/^req_/)
    expect(server.requests[0]).toMatchObject({ path: '/v1/messages', model, stream: false })
  })

  it('logs the credential and API version headers the SDK sends', async () => {
    const { server, client } = await setup()
    await client.messages.create({ model, max_tokens: 256, messages })
    const headers = server.requests[0]?.headers ?? {}

    // Since 1.0 (API version 2026-10-21) the SDK sends its key as a bearer
    // token; 0.x sent `x-api-key` with `anthropic-version: 2023-06-01`.
    expect(headers.authorization).toBe('Bearer test-key')
    expect(headers['x-api-key']).toBeUndefined()
    expect(headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
  })

  it('answers messages.create with a tool_use block whose input is an object', async () => {
    const { client } = await setup({
      respond: { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] },
    })
    const message = await client.messages.create({ model, max_tokens: 256, messages, tools })

    expect(message.stop_reason).toBe('tool_use')
    const [block] = message.content
    expect(block?.type).toBe('tool_use')
    if (block?.type !== 'tool_use') return
    expect(block.name).toBe('get_weather')
    expect(block.input).toEqual({ city: 'Paris' })
    expect(block.id).toMatch(/^toolu_/)
  })

  it('streams text deltas through messages.stream into finalMessage()', async () => {
    const { server, client } = await setup({
      respond: { text: 'Sunny and warm today.', usage: { inputTokens: 14, outputTokens: 6 } },
    })
    const stream = client.messages.stream({ model, max_tokens: 256, messages })
    const deltas: string[] = []
    stream.on('text', (delta) => deltas.push(delta))
    const message = await stream.finalMessage()

    expect(deltas).toEqual(['Sunny', ' and', ' warm', ' today.'])
    expect(message.content).toEqual([{ type: 'text', text: 'Sunny and warm today.' }])
    expect(message.stop_reason).toBe('end_turn')
    expect(message.usage).toMatchObject({ input_tokens: 14, output_tokens: 6 })
    expect(server.requests[0]).toMatchObject({ stream: true })
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key')
  })

  it('accumulates input_json_delta fragments into the tool input of finalMessage()', async () => {
    const input = { city: 'Paris', unit: 'celsius', days: [1, 2, 3] }
    const { client } = await setup({
      respond: {
        text: 'Let me check.',
        toolCalls: [{ name: 'get_weather', arguments: JSON.stringify(input) }],
      },
    })
    const stream = client.messages.stream({ model, max_tokens: 256, messages, tools })
    const fragments: string[] = []
    stream.on('inputJson', (fragment) => fragments.push(fragment))
    const message = await stream.finalMessage()

    expect(fragments.length).toBeGreaterThan(1)
    expect(message.stop_reason).toBe('tool_use')
    expect(message.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input },
    ])
  })

  it('streams every event through create({ stream: true }), message_stop last', async () => {
    const { client } = await setup({ respond: { reasoning: 'Look it up.', text: 'Sunny.' } })
    const stream = await client.messages.create({ model, max_tokens: 256, messages, stream: true })
    const types: string[] = []
    let thinking = ''
    let signature = ''
    for await (const event of stream) {
      types.push(event.type)
      if (event.type === 'content_block_delta' && event.delta.type === 'thinking_delta') {
        thinking += event.delta.thinking
      }
      if (event.type === 'content_block_delta' && event.delta.type === 'signature_delta') {
        signature = event.delta.signature
      }
    }

    expect(types[0]).toBe('message_start')
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop'])
    expect(thinking).toBe('Look it up.')
    expect(signature).not.toBe('')
  })

  it('reads a refusal with its stop_details, in a body and in a stream', async () => {
    const { client } = await setup({ respond: { text: 'I can', finishReason: 'content_filter' } })
    const message = await client.messages.create({ model, max_tokens: 256, messages })
    expect(message.stop_reason).toBe('refusal')
    expect(message.stop_details).toEqual({ type: 'refusal', category: null, explanation: null })

    const streamed = await client.messages
      .stream({ model, max_tokens: 256, messages })
      .finalMessage()
    expect(streamed.stop_reason).toBe('refusal')
    expect(streamed.stop_details).toMatchObject({ type: 'refusal' })
  })

  it('reads a scripted stop reason verbatim: model_context_window_exceeded', async () => {
    const { client } = await setup({
      respond: { text: 'Cut', stopReason: 'model_context_window_exceeded' },
    })
    const message = await client.messages.create({ model, max_tokens: 256, messages })
    expect(message.stop_reason).toBe('model_context_window_exceeded')
    expect(message.stop_details ?? null).toBeNull()
  })

  describe('typed errors', () => {
    it('rejects a 429 with RateLimitError, its Retry-After readable on headers', async () => {
      const { client } = await setup({ respond: { status: 429, retryAfter: '16' } })
      const error = await failure(client.messages.create({ model, max_tokens: 256, messages }))

      expect(error).toBeInstanceOf(RateLimitError)
      if (!(error instanceof RateLimitError)) return
      expect(error.status).toBe(429)
      expect(error.headers.get('retry-after')).toBe('16')
      expect(error.type).toBe('rate_limit_error')
      expect(error.requestID).toMatch(/^req_/)
    })

    it.each([
      [401, AuthenticationError, 'authentication_error'],
      [404, NotFoundError, 'not_found_error'],
      [400, BadRequestError, 'invalid_request_error'],
    ] as const)('rejects a %i with its class', async (status, errorClass, type) => {
      const { client } = await setup({ respond: { status } })
      const error = await failure(client.messages.create({ model, max_tokens: 256, messages }))

      expect(error).toBeInstanceOf(errorClass)
      expect(error).toMatchObject({ status, type })
    })

    it('rejects temperature under the version the SDK sends (2026-10-21) with a BadRequestError', async () => {
      const { server, client } = await setup({ respond: { text: 'never served' } })
      // The SDK's 1.x types have no `temperature` (its version rejects it): sent as a wider value.
      const params = { model, max_tokens: 256, messages, temperature: 0 }
      const error = await failure(client.messages.create(params))

      expect(error).toBeInstanceOf(BadRequestError)
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' })
      expect(server.requests[0]?.headers['anthropic-version']).toBe('2026-10-21')
      // Without the parameter the same server answers as scripted.
      const message = await client.messages.create({ model, max_tokens: 256, messages })
      expect(message.content).toEqual([{ type: 'text', text: 'never served' }])
    })

    it('takes temperature, top_p and top_k under anthropic-version 2023-06-01', async () => {
      const { client } = await setup({ respond: { text: 'Sure.' } })
      const params = { model, max_tokens: 256, messages, temperature: 0, top_p: 0.9, top_k: 5 }
      const message = await client.messages.create(params, {
        headers: { 'anthropic-version': '2023-06-01' },
      })
      expect(message.content).toEqual([{ type: 'text', text: 'Sure.' }])
    })

    it('rejects a 529 with InternalServerError carrying overloaded_error', async () => {
      const { client } = await setup({ respond: { status: 529 } })
      const error = await failure(client.messages.create({ model, max_tokens: 256, messages }))

      expect(error).toBeInstanceOf(InternalServerError)
      if (!(error instanceof InternalServerError)) return
      expect(error.status).toBe(529)
      expect(error.type).toBe('overloaded_error')
      expect(error.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
    })

    it('raises an APIError for an in-band error event inside a 200 stream', async () => {
      const { client } = await setup({ respond: { fault: 'in-band-error', afterEvents: 3 } })
      const stream = client.messages.stream({ model, max_tokens: 256, messages })
      const error = await failure(stream.finalMessage())

      expect(error).toBeInstanceOf(APIError)
      expect(error).toMatchObject({ type: 'overloaded_error', status: undefined })
    })
  })
})
