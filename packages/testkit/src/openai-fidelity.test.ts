import { readFile } from 'node:fs/promises'
import OpenAI, { AzureOpenAI } from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import { startFakeOpenAI } from './start-fake-openai.js'

// The official SDK, unchanged, pointed at the fake: what it reads is what the
// real API would have given it. A fake only our own adapters can read proves nothing.

const fixtureURL = (path: string): URL => new URL(`../../../fixtures/${path}`, import.meta.url)
const readFixtureJson = async (path: string): Promise<unknown> =>
  JSON.parse(await readFile(fixtureURL(path), 'utf8'))

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

const clientFor = (server: FakeServer): OpenAI =>
  new OpenAI({ apiKey: 'sk-test', baseURL: `${server.url}/v1`, maxRetries: 0 })

const messages = [{ role: 'user' as const, content: 'What is the capital of Mexico?' }]

/** What the SDK throws, for assertions on its class and fields. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

describe('openaiDialect with the official openai SDK', () => {
  it('reads a text completion: content, finish_reason, usage, request id', async () => {
    const server = await start({
      respond: { text: 'Mexico City.', usage: { inputTokens: 14, outputTokens: 3 } },
    })
    const completion = await clientFor(server).chat.completions.create({
      model: 'gpt-4o',
      messages,
    })
    expect(completion.object).toBe('chat.completion')
    expect(completion.model).toBe('gpt-4o')
    expect(completion.choices[0]?.message.content).toBe('Mexico City.')
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage).toMatchObject({
      prompt_tokens: 14,
      completion_tokens: 3,
      total_tokens: 17,
    })
    expect(completion._request_id).toMatch(/^req_[0-9a-f]{32}$/)
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-test')
    expect(server.requests[0]?.path).toBe('/v1/chat/completions')
  })

  it('reads tool calls with their ids, names and arguments', async () => {
    const server = await start({
      respond: {
        toolCalls: [
          { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { name: 'get_time', arguments: '{}' },
        ],
      },
    })
    const completion = await clientFor(server).chat.completions.create({
      model: 'gpt-4o',
      messages,
    })
    const [choice] = completion.choices
    expect(choice?.finish_reason).toBe('tool_calls')
    expect(choice?.message.content).toBeNull()
    const calls = (choice?.message.tool_calls ?? []).map((call) =>
      call.type === 'function' ? [call.id, call.function.name, call.function.arguments] : [],
    )
    expect(calls).toEqual([
      ['call_1', 'get_weather', '{"city":"Paris"}'],
      [expect.stringMatching(/^call_/), 'get_time', '{}'],
    ])
  })

  it('reads a content_filter finish from a 200', async () => {
    const server = await start({ respond: { text: 'Partial', finishReason: 'content_filter' } })
    const completion = await clientFor(server).chat.completions.create({
      model: 'gpt-4o',
      messages,
    })
    expect(completion.choices[0]?.finish_reason).toBe('content_filter')
  })

  it('streams text chunks, the finish_reason and the usage chunk', async () => {
    const server = await start({
      respond: { text: 'The capital is Mexico City.', usage: { inputTokens: 14, outputTokens: 8 } },
    })
    const stream = await clientFor(server).chat.completions.create({
      model: 'gpt-4o',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })
    const chunks: ChatCompletionChunk[] = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant')
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      'The capital is Mexico City.',
    )
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop')
    expect(chunks.at(-1)?.choices).toEqual([])
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 8 })
    expect(server.requests[0]).toMatchObject({ stream: true, model: 'gpt-4o' })
  })

  it('streams tool-call deltas that the SDK assembles into whole calls', async () => {
    const server = await start({
      respond: {
        toolCalls: [
          { id: 'call_a', name: 'get_weather', arguments: '{"city":"Mexico City","unit":"c"}' },
          { id: 'call_b', name: 'get_country', arguments: '{}' },
        ],
      },
    })
    const client = clientFor(server)
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })
    const argumentsByIndex = new Map<number, string>()
    let finishReason: string | null | undefined
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        argumentsByIndex.set(
          call.index,
          (argumentsByIndex.get(call.index) ?? '') + (call.function?.arguments ?? ''),
        )
      }
      finishReason ??= chunk.choices[0]?.finish_reason
    }
    expect(Object.fromEntries(argumentsByIndex)).toEqual({
      0: '{"city":"Mexico City","unit":"c"}',
      1: '{}',
    })
    expect(finishReason).toBe('tool_calls')

    // The SDK's own accumulator checks the delta protocol (ids, names, indexes).
    const final = await client.chat.completions
      .stream({ model: 'gpt-4o', messages, stream_options: { include_usage: true } })
      .finalChatCompletion()
    const calls = final.choices[0]?.message.tool_calls ?? []
    expect(
      calls.map((call) =>
        call.type === 'function' ? [call.id, call.function.name, call.function.arguments] : [],
      ),
    ).toEqual([
      ['call_a', 'get_weather', '{"city":"Mexico City","unit":"c"}'],
      ['call_b', 'get_country', '{}'],
    ])
    expect(final.choices[0]?.finish_reason).toBe('tool_calls')
    expect(final.usage?.total_tokens).toBeGreaterThan(0)
  })

  it('raises RateLimitError on a 429 with retry-after readable from its headers', async () => {
    const server = await start({ respond: { status: 429, retryAfter: '2' } })
    const error = await rejectionOf(
      clientFor(server).chat.completions.create({ model: 'gpt-4o', messages }),
    )
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>
    expect(rateLimit.status).toBe(429)
    expect(rateLimit.headers?.get('retry-after')).toBe('2')
    expect(rateLimit.code).toBe('rate_limit_exceeded')
    expect(rateLimit.type).toBe('tokens')
    expect(rateLimit.requestID).toMatch(/^req_/)
    expect(server.requests).toHaveLength(1)
  })

  it('raises AuthenticationError, NotFoundError, BadRequestError and InternalServerError with their codes', async () => {
    const server = await start()
    const contextLength = await readFixtureJson('openai/error-400-context-length-exceeded.json')
    server.script('s401', { status: 401 })
    server.script('s404', { status: 404 })
    server.script('s400', { status: 400, body: contextLength })
    server.script('s500', { status: 500 })
    server.script('s503', { status: 503 })
    const client = clientFor(server)
    const fail = (model: string): Promise<unknown> =>
      rejectionOf(client.chat.completions.create({ model, messages }))

    const auth = await fail('s401')
    expect(auth).toBeInstanceOf(OpenAI.AuthenticationError)
    expect(auth).toMatchObject({ status: 401, code: 'invalid_api_key' })

    const notFound = await fail('s404')
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError)
    expect(notFound).toMatchObject({ status: 404, code: 'model_not_found' })
    expect((notFound as Error).message).toContain('s404')

    const badRequest = await fail('s400')
    expect(badRequest).toBeInstanceOf(OpenAI.BadRequestError)
    expect(badRequest).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      param: 'messages',
    })

    const internal = await fail('s500')
    expect(internal).toBeInstanceOf(OpenAI.InternalServerError)
    expect(internal).toMatchObject({ status: 500, type: 'server_error' })

    expect(await fail('s503')).toMatchObject({ status: 503, type: 'server_error' })
  })

  it('raises an APIError from an in-band error frame inside a 200 stream', async () => {
    const server = await start({ respond: { fault: 'in-band-error', afterEvents: 2 } })
    const stream = await clientFor(server).chat.completions.create({
      model: 'gpt-4o',
      messages,
      stream: true,
    })
    const seen: ChatCompletionChunk[] = []
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) seen.push(chunk)
      })(),
    )
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toContain(
      'The server had an error while processing your request',
    )
    expect(seen).toHaveLength(2)
  })

  describe('AzureOpenAI', () => {
    const azureFor = (server: FakeServer): AzureOpenAI =>
      new AzureOpenAI({
        endpoint: server.url,
        apiKey: 'azure-key',
        apiVersion: '2024-10-21',
        deployment: 'my-gpt4o',
        maxRetries: 0,
      })

    it('calls the deployment path with api-version and the api-key header', async () => {
      const server = await start({ respond: { text: 'Bonjour.' } })
      const completion = await azureFor(server).chat.completions.create({
        model: 'gpt-4o',
        messages,
      })
      expect(completion.choices[0]?.message.content).toBe('Bonjour.')
      expect(completion.model).toBe('my-gpt4o')
      const [request] = server.requests
      expect(request).toMatchObject({
        path: '/openai/deployments/my-gpt4o/chat/completions',
        query: { 'api-version': '2024-10-21' },
        model: 'my-gpt4o',
      })
      expect(request?.headers['api-key']).toBe('azure-key')
      expect(request?.headers.authorization).toBeUndefined()
    })

    it('streams through the prompt_filter_results chunk Azure sends first', async () => {
      const server = await start({ respond: { text: 'Bonjour tout le monde.' } })
      const final = await azureFor(server)
        .chat.completions.stream({
          model: 'gpt-4o',
          messages,
          stream_options: { include_usage: true },
        })
        .finalChatCompletion()
      expect(final.choices[0]?.message.content).toBe('Bonjour tout le monde.')
      expect(final.choices[0]?.finish_reason).toBe('stop')
    })

    it('raises Azure errors with Azure codes', async () => {
      const server = await start({ respond: [{ status: 404 }, { status: 401 }] })
      const client = azureFor(server)
      const notFound = await rejectionOf(
        client.chat.completions.create({ model: 'gpt-4o', messages }),
      )
      expect(notFound).toBeInstanceOf(OpenAI.NotFoundError)
      expect(notFound).toMatchObject({ status: 404, code: 'DeploymentNotFound' })
      const auth = await rejectionOf(client.chat.completions.create({ model: 'gpt-4o', messages }))
      expect(auth).toBeInstanceOf(OpenAI.AuthenticationError)
      expect(auth).toMatchObject({ status: 401, code: '401' })
    })

    it('serves the Azure v1 path to the plain OpenAI client', async () => {
      const server = await start()
      const client = new OpenAI({
        apiKey: 'azure-key',
        baseURL: `${server.url}/openai/v1`,
        maxRetries: 0,
      })
      const completion = await client.chat.completions.create({ model: 'gpt-4o-deploy', messages })
      expect(completion.choices[0]?.message.content).toBe('Hello from the fake server.')
      expect(server.requests[0]).toMatchObject({
        path: '/openai/v1/chat/completions',
        model: 'gpt-4o-deploy',
      })
    })
  })
})
