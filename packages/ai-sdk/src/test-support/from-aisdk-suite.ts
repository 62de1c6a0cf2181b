import { APICallError, type LanguageModelV3CallOptions } from '@ai-sdk/provider'
import {
  type ChatRequest,
  createClient,
  isUnderstudyError,
  type StreamEvent,
} from '@understudy/core'
import { deepFreeze, startFakeOpenAI } from '@understudy/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { fromAISDK } from '../from-aisdk.js'
import { type MockModel, type Sdk, streamOf, usageOf } from './sdk.js'

const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Say hi.' }]

/** What the model received on its n-th call, in V3's words (V4's are the same for text). */
function callOf(model: MockModel, index: number, kind: 'generate' | 'stream' = 'generate') {
  const calls = kind === 'generate' ? model.doGenerateCalls : model.doStreamCalls
  return calls[index] as LanguageModelV3CallOptions
}

function answer(text: string) {
  return async () => ({
    content: [{ type: 'text' as const, text }],
    finishReason: { unified: 'stop' as const, raw: 'stop' },
    usage: usageOf(5, 2),
    warnings: [],
  })
}

function failing(error: () => unknown) {
  return async () => {
    throw error()
  }
}

async function collect(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = []
  for await (const event of stream) events.push(event)
  return events
}

/** `fromAISDK` over one major's AI SDK models. */
export function fromAISDKSuite(sdk: Sdk): void {
  describe(`fromAISDK over ai ${sdk.major} models: complete`, () => {
    it('serves "<id>/<modelId>" with one doGenerate per attempt, request and answer carried over', async () => {
      const model = sdk.mockModel({
        doGenerate: async () => ({
          content: [
            { type: 'reasoning', text: 'Thinking.' },
            { type: 'text', text: 'Calling it.' },
            { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"city":"Oslo"}' },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage: usageOf(12, 7),
          warnings: [],
        }),
      })
      const asked: string[] = []
      const client = createClient({
        providers: [
          fromAISDK('vendor', {
            languageModel: (id) => {
              asked.push(id)
              return model
            },
          }),
        ],
      })
      const request: ChatRequest = deepFreeze({
        model: 'vendor/big-1',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'c0', name: 'weather', arguments: '{"city":"Rome"}' }],
          },
          { role: 'tool', toolCallId: 'c0', content: 'sunny' },
        ],
        tools: [{ name: 'weather', parameters: { type: 'object' } }],
        toolChoice: 'required',
        maxTokens: 100,
        temperature: 0.1,
        responseFormat: { type: 'json_schema', name: 'w', schema: { type: 'object' } },
        providerOptions: { vendor: { mode: 'fast' } },
      })
      const response = await client.complete(request, { headers: { 'x-team': 'a' } })
      expect(asked).toEqual(['big-1'])
      expect(response).toMatchObject({
        target: 'vendor/big-1',
        text: 'Calling it.',
        reasoning: 'Thinking.',
        toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' }],
        finishReason: 'tool_calls',
        usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 },
      })
      const call = callOf(model, 0)
      expect(model.doGenerateCalls).toHaveLength(1)
      expect(call.prompt).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', toolCallId: 'c0', toolName: 'weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'c0',
              toolName: 'weather',
              output: { type: 'text', value: 'sunny' },
            },
          ],
        },
      ])
      expect(call).toMatchObject({
        tools: [{ type: 'function', name: 'weather', inputSchema: { type: 'object' } }],
        toolChoice: { type: 'required' },
        maxOutputTokens: 100,
        temperature: 0.1,
        responseFormat: { type: 'json', name: 'w', schema: { type: 'object' } },
        providerOptions: { vendor: { mode: 'fast' } },
        headers: { 'x-team': 'a' },
      })
      expect(call.abortSignal).toBeInstanceOf(AbortSignal)
    })

    it('classifies APICallErrors from status, Retry-After and the body’s code, and falls back', async () => {
      const limited = sdk.mockModel({
        doGenerate: failing(
          () =>
            new APICallError({
              message: 'slow down',
              url: 'https://vendor.test/v1/chat',
              requestBodyValues: {},
              statusCode: 429,
              responseHeaders: { 'retry-after': '2' },
              responseBody: '{"error":{"message":"Rate limit reached"}}',
              isRetryable: true,
            }),
        ),
      })
      const tooLong = sdk.mockModel({
        doGenerate: failing(
          () =>
            new APICallError({
              message: 'bad request',
              url: 'https://vendor.test/v1/chat',
              requestBodyValues: {},
              statusCode: 400,
              responseBody: '{"error":{"code":"context_length_exceeded","message":"too long"}}',
              isRetryable: false,
            }),
        ),
      })
      const unreachable = sdk.mockModel({
        doGenerate: failing(
          () =>
            new APICallError({
              message: 'Cannot connect to API: fetch failed',
              url: 'https://vendor.test/v1/chat',
              requestBodyValues: {},
              isRetryable: true,
            }),
        ),
      })
      const good = sdk.mockModel({ doGenerate: answer('At last.') })
      const models: Record<string, MockModel> = { limited, tooLong, unreachable, good }
      const client = createClient({
        providers: [fromAISDK('vendor', (id) => models[id] ?? good)],
        retries: 0,
        health: { cooldownMs: 0 },
        backoff: { maxDelayMs: 1 },
      })
      const response = await client.complete(
        { model: 'vendor/limited', messages },
        {
          fallbacks: ['vendor/unreachable', 'vendor/tooLong', 'vendor/good'],
          policy: { invalid_request: { fallback: true } },
        },
      )
      expect(response.text).toBe('At last.')
      expect(response.attempts.map((attempt) => attempt.error)).toEqual([
        expect.objectContaining({ kind: 'rate_limit', status: 429, retryAfterMs: 2_000 }),
        expect.objectContaining({ kind: 'network' }),
        expect.objectContaining({ kind: 'context_window', status: 400 }),
        undefined,
      ])
      expect(response.attempts[0]?.error?.message).toContain('Rate limit reached')
      expect(limited.doGenerateCalls).toHaveLength(1)
    })

    it('propagates the attempt’s abort to the model', async () => {
      let seen: AbortSignal | undefined
      const model = sdk.mockModel({
        doGenerate: (options) =>
          new Promise((_, reject) => {
            seen = options.abortSignal
            options.abortSignal?.addEventListener('abort', () =>
              reject(options.abortSignal?.reason),
            )
          }),
      })
      const client = createClient({ providers: [fromAISDK('vendor', () => model)] })
      const controller = new AbortController()
      const pending = client
        .complete({ model: 'vendor/m', messages }, { signal: controller.signal })
        .catch((reason: unknown) => reason)
      while (seen === undefined) await new Promise((resolve) => setImmediate(resolve))
      controller.abort()
      expect(await pending).toMatchObject({ kind: 'aborted' })
      expect(seen.aborted).toBe(true)
    })

    it('refuses a target that brings its own key: the AI SDK model holds its credentials', async () => {
      const model = sdk.mockModel({ doGenerate: answer('never') })
      const client = createClient({ providers: [fromAISDK('vendor', () => model)] })
      const error = await client
        .complete({ model: 'vendor/m', messages }, { apiKey: 'key-for-someone-else' })
        .catch((reason: unknown) => reason)
      expect(isUnderstudyError(error)).toBe(true)
      expect(JSON.stringify(error)).toContain('cannot set apiKey or baseURL')
      expect(JSON.stringify(error)).not.toContain('key-for-someone-else')
      expect(model.doGenerateCalls).toHaveLength(0)
    })

    for (const via of ['complete', 'stream'] as const) {
      it(`sends a turn's signed parts back to the model that wrote them, and to no other (${via})`, async () => {
        const signature = { vendor: { signature: 'sig-1' } }
        const parts = [
          { type: 'reasoning-start', id: 'r', providerMetadata: signature },
          { type: 'reasoning-delta', id: 'r', delta: 'Hmm.' },
          { type: 'reasoning-end', id: 'r' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{"q":1}' },
          {
            type: 'finish',
            finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
            usage: usageOf(1, 1),
          },
        ] as const
        const writer = sdk.mockModel({
          doGenerate: async () => ({
            content: [
              { type: 'reasoning', text: 'Hmm.', providerMetadata: signature },
              { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{"q":1}' },
            ],
            finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
            usage: usageOf(1, 1),
            warnings: [],
          }),
          doStream: async () => streamOf([...parts]),
        })
        const reader = sdk.mockModel({ doGenerate: answer('ok') })
        const other = sdk.mockModel({ doGenerate: answer('ok') })
        const client = createClient({
          providers: [
            fromAISDK('vendor', (id) => (id === 'w' ? writer : reader)),
            fromAISDK('other', () => other),
          ],
        })
        const first =
          via === 'complete'
            ? await client.complete({ model: 'vendor/w', messages })
            : await (async () => {
                const stream = client.stream({ model: 'vendor/w', messages })
                await collect(stream)
                return stream.response
              })()
        expect(first.message.providerState).toMatchObject({ provider: 'vendor' })
        const history: ChatRequest['messages'] = [
          ...messages,
          first.message,
          { role: 'tool', toolCallId: 'c1', content: 'found' },
        ]
        await client.complete({ model: 'vendor/w', messages: history })
        const replayed = callOf(writer, via === 'complete' ? 1 : 0)
        expect(replayed.prompt[1]).toEqual({
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'Hmm.', providerOptions: signature },
            { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { q: 1 } },
          ],
        })
        await client.complete({ model: 'other/m', messages: history })
        expect(callOf(other, 0).prompt[1]).toEqual({
          role: 'assistant',
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: { q: 1 } }],
        })
      })
    }

    it('checks its id and provider before any call', () => {
      const model = sdk.mockModel({ doGenerate: answer('x') })
      expect(() => fromAISDK('a/b', () => model)).toThrow(
        expect.objectContaining({ kind: 'config', path: 'id' }),
      )
      expect(() => fromAISDK('vendor', {} as never)).toThrow(
        expect.objectContaining({ kind: 'config', path: 'provider' }),
      )
    })
  })

  describe(`fromAISDK over ai ${sdk.major} models: stream`, () => {
    it('streams text and tool input as Understudy events, with the finish', async () => {
      const model = sdk.mockModel({
        doStream: async () =>
          streamOf([
            { type: 'stream-start', warnings: [] },
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: 'Hi ' },
            { type: 'text-delta', id: 't', delta: 'there' },
            { type: 'text-end', id: 't' },
            { type: 'tool-input-start', id: 'c1', toolName: 'weather' },
            { type: 'tool-input-delta', id: 'c1', delta: '{"city":"Oslo"}' },
            { type: 'tool-input-end', id: 'c1' },
            { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: '{"city":"Oslo"}' },
            {
              type: 'finish',
              finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
              usage: usageOf(3, 4),
            },
          ]),
      })
      const client = createClient({ providers: [fromAISDK('vendor', () => model)] })
      const stream = client.stream({ model: 'vendor/m', messages })
      const events = await collect(stream)
      expect(events).toEqual([
        { type: 'start', target: 'vendor/m', provider: 'vendor', model: 'm' },
        { type: 'text', text: 'Hi ' },
        { type: 'text', text: 'there' },
        { type: 'tool-call-delta', index: 0, id: 'c1', name: 'weather', argumentsDelta: '' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '{"city":"Oslo"}' },
        {
          type: 'finish',
          finishReason: 'tool_calls',
          usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
        },
      ])
      expect((await stream.response).toolCalls).toEqual([
        { id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' },
      ])
    })

    it('cancels the model’s stream (and its connection) when the caller leaves early', async () => {
      let cancelled = false
      const model = sdk.mockModel({
        doStream: async () => ({
          stream: new ReadableStream({
            start(controller) {
              controller.enqueue({ type: 'text-delta', id: 't', delta: 'One' })
            },
            cancel() {
              cancelled = true
            },
          }),
        }),
      })
      const client = createClient({ providers: [fromAISDK('vendor', () => model)] })
      const stream = client.stream({ model: 'vendor/m', messages })
      for await (const event of stream) if (event.type === 'text') break
      expect(cancelled).toBe(true)
      await expect(stream.response).rejects.toMatchObject({ kind: 'aborted' })
    })

    it('falls back on an error part before the first content, and is interrupted by one after it', async () => {
      const overloaded = () =>
        new APICallError({
          message: 'overloaded',
          url: 'https://vendor.test',
          requestBodyValues: {},
          statusCode: 503,
          isRetryable: true,
        })
      const early = sdk.mockModel({
        doStream: async () =>
          streamOf([
            { type: 'stream-start', warnings: [] },
            { type: 'error', error: overloaded() },
          ]),
      })
      const late = sdk.mockModel({
        doStream: async () =>
          streamOf([
            { type: 'text-start', id: 't' },
            { type: 'text-delta', id: 't', delta: 'Half' },
            { type: 'error', error: overloaded() },
          ]),
      })
      const good = sdk.mockModel({
        doStream: async () =>
          streamOf([
            { type: 'text-delta', id: 't', delta: 'Whole' },
            {
              type: 'finish',
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: usageOf(1, 1),
            },
          ]),
      })
      const models: Record<string, MockModel> = { early, late, good }
      const client = createClient({
        providers: [fromAISDK('vendor', (id) => models[id] ?? good)],
        retries: 0,
        health: { cooldownMs: 0 },
      })
      const fell = client.stream(
        { model: 'vendor/early', messages },
        { fallbacks: ['vendor/good'] },
      )
      expect((await collect(fell)).filter((event) => event.type === 'text')).toEqual([
        { type: 'text', text: 'Whole' },
      ])
      expect((await fell.response).attempts[0]?.error).toMatchObject({
        kind: 'overloaded',
        status: 503,
      })

      const cut = client.stream({ model: 'vendor/late', messages }, { fallbacks: ['vendor/good'] })
      const error = await collect(cut).catch((reason: unknown) => reason)
      expect(error).toMatchObject({ kind: 'stream_interrupted', partial: { text: 'Half' } })
      expect(good.doStreamCalls).toHaveLength(1)
      await cut.response.catch(() => {})
    })
  })

  describe(`fromAISDK over ai ${sdk.major}'s real @ai-sdk/openai, over sockets`, () => {
    it('reads a 429’s Retry-After, falls back, and sends each server its own key', async () => {
      const limited = await startFakeOpenAI({ respond: { status: 429, retryAfter: '3' } })
      const healthy = await startFakeOpenAI({ respond: { text: 'From the healthy one.' } })
      onTestFinished(async () => {
        await limited.close()
        await healthy.close()
      })
      const client = createClient({
        providers: [
          fromAISDK('busy', sdk.openaiChat({ baseURL: `${limited.url}/v1`, apiKey: 'key-busy' })),
          fromAISDK('calm', sdk.openaiChat({ baseURL: `${healthy.url}/v1`, apiKey: 'key-calm' })),
        ],
        retries: 0,
        health: { cooldownMs: 0 },
      })
      const response = await client.complete(
        { model: 'busy/gpt-4o', messages },
        { fallbacks: ['calm/gpt-4o-mini'] },
      )
      expect(response.text).toBe('From the healthy one.')
      expect(response.attempts[0]?.error).toMatchObject({
        kind: 'rate_limit',
        status: 429,
        retryAfterMs: 3_000,
      })
      expect(limited.requests).toHaveLength(1)
      expect(limited.requests[0]?.headers.authorization).toBe('Bearer key-busy')
      expect(healthy.requests[0]?.headers.authorization).toBe('Bearer key-calm')

      const stream = client.stream(
        { model: 'busy/gpt-4o', messages },
        { fallbacks: ['calm/gpt-4o-mini'] },
      )
      const text = (await collect(stream))
        .map((event) => (event.type === 'text' ? event.text : ''))
        .join('')
      expect(text).toBe('From the healthy one.')
      expect((await stream.response).target).toBe('calm/gpt-4o-mini')
    })
  })
}
