import { ApiError, FinishReason, type GenerateContentResponse, GoogleGenAI } from '@google/genai'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import { startFakeGemini } from './start-fake-gemini.js'

// The official SDK, unchanged, pointed at the fake: if it reads the fake's
// answers, streams and errors as it reads Google's, the fake is faithful.

async function start(
  options?: FakeServerOptions,
): Promise<{ server: FakeServer; client: GoogleGenAI }> {
  const server = await startFakeGemini(options)
  onTestFinished(() => server.close())
  const client = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url } })
  return { server, client }
}

const contents = 'Say OK.'

/** What a promise rejects with, or a failure when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

async function drain(
  stream: AsyncGenerator<GenerateContentResponse>,
): Promise<GenerateContentResponse[]> {
  const chunks: GenerateContentResponse[] = []
  for await (const chunk of stream) chunks.push(chunk)
  return chunks
}

describe('geminiDialect with @google/genai', () => {
  it('gives models.generateContent the text, usage and finish reason, with the key in x-goog-api-key', async () => {
    const { server, client } = await start({
      respond: { text: 'OK.', usage: { inputTokens: 6, outputTokens: 2 } },
    })
    const response = await client.models.generateContent({ model: 'gemini-2.5-flash', contents })
    expect(response.text).toBe('OK.')
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.STOP)
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: 6,
      candidatesTokenCount: 2,
      totalTokenCount: 8,
    })
    expect(response.modelVersion).toBe('gemini-2.5-flash')
    expect(response.responseId).toBeTruthy()
    const [request] = server.requests
    expect(request?.headers['x-goog-api-key']).toBe('test-key')
    expect(request?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(request?.model).toBe('gemini-2.5-flash')
  })

  it('gives models.generateContent function calls with their args', async () => {
    const { client } = await start({
      respond: {
        reasoning: 'The user wants the weather.',
        toolCalls: [{ name: 'weather', arguments: '{"location":"San Francisco"}' }],
      },
    })
    const response = await client.models.generateContent({
      model: 'gemini-3-pro-preview',
      contents,
    })
    expect(response.functionCalls).toEqual([
      { name: 'weather', args: { location: 'San Francisco' } },
    ])
    expect(response.candidates?.[0]?.content?.parts?.[0]).toEqual({
      text: 'The user wants the weather.',
      thought: true,
    })
    expect(response.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0)
  })

  it('keeps the thought part of a reasoning answer out of response.text', async () => {
    const { client } = await start({ respond: { reasoning: 'Short question.', text: 'OK.' } })
    const response = await client.models.generateContent({ model: 'gemini-2.5-flash', contents })
    expect(response.text).toBe('OK.')
    expect(
      response.candidates?.[0]?.content?.parts?.filter((part) => part.thought === true),
    ).toHaveLength(1)
  })

  it('gives models.generateContent a SAFETY finish for a filtered answer', async () => {
    const { client } = await start({ respond: { finishReason: 'content_filter' } })
    const response = await client.models.generateContent({ model: 'gemini-2.5-flash', contents })
    expect(response.candidates?.[0]?.finishReason).toBe(FinishReason.SAFETY)
    expect(response.candidates?.[0]?.safetyRatings?.some((rating) => rating.blocked === true)).toBe(
      true,
    )
    expect(response.text).toBeUndefined()
  })

  it('gives models.generateContentStream every chunk, then the final finish reason and usage', async () => {
    const { server, client } = await start({
      respond: { text: 'one two three', usage: { inputTokens: 18, outputTokens: 3 } },
    })
    const chunks = await drain(
      await client.models.generateContentStream({ model: 'gemini-2.5-flash', contents }),
    )
    expect(chunks.map((chunk) => chunk.text)).toEqual(['one ', 'two ', 'three'])
    const last = chunks.at(-1)
    expect(last?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP)
    expect(last?.usageMetadata).toMatchObject({
      promptTokenCount: 18,
      candidatesTokenCount: 3,
      totalTokenCount: 21,
    })
    expect(
      chunks.slice(0, -1).every((chunk) => chunk.candidates?.[0]?.finishReason === undefined),
    ).toBe(true)
    expect(server.requests[0]?.query.alt).toBe('sse')
    expect(server.requests[0]?.stream).toBe(true)
    expect(server.requests[0]?.headers['x-goog-api-key']).toBe('test-key')
  })

  it('gives models.generateContentStream a function call chunk and a STOP chunk', async () => {
    const { client } = await start({
      respond: { toolCalls: [{ name: 'get_country', arguments: '{}' }] },
    })
    const chunks = await drain(
      await client.models.generateContentStream({ model: 'gemini-3-pro-preview', contents }),
    )
    expect(chunks.flatMap((chunk) => chunk.functionCalls ?? [])).toEqual([
      { name: 'get_country', args: {} },
    ])
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe(FinishReason.STOP)
  })

  it.each([
    [429, 'You exceeded your current quota'],
    [404, 'models/gemini-9-nope is not found for API version v1beta'],
    [403, "Method doesn't allow unregistered callers"],
    [500, 'An internal error has occurred.'],
  ])('rejects with an ApiError of status %i carrying the body message', async (status, message) => {
    const { client } = await start({ respond: { status } })
    const error = await rejectionOf(
      client.models.generateContent({ model: 'gemini-9-nope', contents }),
    )
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(status)
    expect((error as ApiError).message).toContain(message)
  })

  it('rejects a 429 with the RetryInfo delay readable from the ApiError message', async () => {
    const { client } = await start({ respond: { status: 429, retryAfterMs: 2_000 } })
    const error = await rejectionOf(
      client.models.generateContent({ model: 'gemini-2.5-flash', contents }),
    )
    expect((error as ApiError).status).toBe(429)
    const body = JSON.parse((error as ApiError).message) as { error: { details: unknown[] } }
    expect(body.error.details).toContainEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '2s',
    })
  })

  it('rejects a stream with an ApiError when the stream ends in an in-band error', async () => {
    const { client } = await start({ respond: { fault: 'in-band-error', afterEvents: 1 } })
    const stream = await client.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents,
    })
    const received: GenerateContentResponse[] = []
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) received.push(chunk)
      })(),
    )
    expect(received.map((chunk) => chunk.text)).toEqual(['Partial '])
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(503)
    expect((error as ApiError).message).toContain('The model is overloaded.')
  })

  it('sends back a signed function call to the same key, and gets the real 400 for another key', async () => {
    const { server, client } = await start({
      respond: { toolCalls: [{ name: 'weather', arguments: '{"city":"Oslo"}' }] },
    })
    const model = 'gemini-3-pro-preview'
    const first = await client.models.generateContent({ model, contents })
    const turn = first.candidates?.[0]?.content
    expect(turn?.parts?.[0]?.thoughtSignature).toEqual(expect.any(String))
    const history = [
      { role: 'user', parts: [{ text: contents }] },
      turn ?? {},
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'weather', response: { output: 'Sunny' } } }],
      },
    ]
    server.script(model, { text: 'Sunny in Oslo.' })
    const again = await client.models.generateContent({ model, contents: history })
    expect(again.text).toBe('Sunny in Oslo.')
    const other = new GoogleGenAI({ apiKey: 'other-key', httpOptions: { baseUrl: server.url } })
    const error = await rejectionOf(other.models.generateContent({ model, contents: history }))
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(400)
    expect((error as ApiError).message).toContain('Corrupted thought signature.')
  })

  it('rejects a stream whose request failed with an ApiError before any chunk', async () => {
    const { client } = await start({ respond: { status: 503 } })
    const error = await rejectionOf(
      client.models.generateContentStream({ model: 'gemini-2.5-flash', contents }),
    )
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(503)
  })
})
