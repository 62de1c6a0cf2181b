import type { ModelMessage } from 'ai'
import {
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  type Client,
  createClient,
  type StreamEvent,
} from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import {
  type FakeServer,
  type RegressionClient,
  type RegressionSetup,
  type RegressionStream,
  runFallbackRegression,
  serverUpstream,
  startFakeOpenAI,
} from '@understudy/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { fromAISDK } from '../from-aisdk.js'
import { understudyModel } from '../understudy-model.js'
import type { UnderstudyTrace } from '../understudy-trace.js'
import type { Sdk } from './sdk.js'

const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Say hi.' }]

function traceOf(metadata: unknown): UnderstudyTrace | undefined {
  return (metadata as { understudy?: UnderstudyTrace } | undefined)?.understudy
}

/** The request's messages in the AI SDK's words (the suite's request is text only). */
function modelMessages(request: ChatRequest): ModelMessage[] {
  return request.messages.map((message) => ({
    role: message.role as 'user',
    content: typeof message.content === 'string' ? message.content : '',
  }))
}

/** The part of a response the regression suite reads, from what the AI SDK returned. */
function responseOf(text: string, trace: UnderstudyTrace | undefined): ChatResponse {
  return {
    text,
    message: { role: 'assistant', content: text },
    toolCalls: [],
    finishReason: 'stop',
    usage: {},
    provider: trace?.provider ?? '',
    model: trace?.model ?? '',
    target: trace?.target ?? 'no trace',
    attempts: [],
  }
}

/**
 * Core's client seen through the AI SDK: each `complete()` is a `generateText`
 * and each `stream()` a `streamText` on a fresh `understudyModel` made with
 * the call's options, as an application would write it.
 */
function throughAISDK(sdk: Sdk, client: Client): RegressionClient {
  return {
    async complete(request: ChatRequest, options?: CallOptions) {
      const model = understudyModel(client, { ...options, model: request.model })
      const result = await sdk.generateText({
        model,
        messages: modelMessages(request),
        maxRetries: 0,
      })
      return responseOf(result.text, traceOf(result.providerMetadata))
    },
    stream(request: ChatRequest, options?: CallOptions): RegressionStream {
      const model = understudyModel(client, { ...options, model: request.model })
      const result = sdk.streamText({ model, messages: modelMessages(request), maxRetries: 0 })
      let text = ''
      let trace: UnderstudyTrace | undefined
      let failure: unknown
      const events = async function* (): AsyncGenerator<StreamEvent> {
        for await (const part of result.fullStream) {
          if (part.type === 'text-start') {
            // The bridge names the serving target on the first content block.
            const served = traceOf(part.providerMetadata)
            if (served !== undefined) {
              yield {
                type: 'start',
                target: served.target,
                provider: served.provider,
                model: served.model,
              }
            }
          } else if (part.type === 'text-delta') {
            text += part.text
            yield { type: 'text', text: part.text }
          } else if (part.type === 'finish-step') {
            trace = traceOf(part.providerMetadata)
          } else if (part.type === 'error') {
            failure = part.error
          }
        }
        if (failure !== undefined) throw failure
        yield { type: 'finish', finishReason: 'stop', usage: {} }
      }
      let settle: (response: ChatResponse) => void = () => {}
      let fail: (error: unknown) => void = () => {}
      const response = new Promise<ChatResponse>((resolve, reject) => {
        settle = resolve
        fail = reject
      })
      response.catch(() => {})
      return {
        response,
        async *[Symbol.asyncIterator]() {
          try {
            yield* events()
            settle(responseOf(text, trace))
          } catch (error) {
            fail(error)
            throw error
          }
        },
      }
    },
  }
}

async function start(options?: Parameters<typeof startFakeOpenAI>[0]): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

/**
 * A chain over real sockets, three fake servers:
 * - `openai/gpt-4o` at A with the `openai` provider's configured key (down: 503);
 * - `openai/gpt-4o-mini` at B, a target with its own base URL, key and headers;
 * - `vendor/gpt-4o-mini` at C: the real `@ai-sdk/openai` of the major under
 *   test, joined with `fromAISDK`, with its own key.
 */
async function overSockets(sdk: Sdk, compatibleDown: boolean): Promise<RegressionSetup> {
  const a = await start({ respond: { status: 503 } })
  const b = await start(compatibleDown ? { respond: { status: 429, retryAfter: '1' } } : {})
  const c = await start()
  const client = createClient({
    providers: [
      openai({ baseURL: `${a.url}/v1`, apiKey: 'key-openai-a' }),
      fromAISDK('vendor', sdk.openaiChat({ baseURL: `${c.url}/v1`, apiKey: 'key-vendor-c' })),
    ],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  return {
    client: throughAISDK(sdk, client),
    request: { model: 'openai/gpt-4o', messages },
    fallbacks: [
      {
        model: 'openai/gpt-4o-mini',
        baseURL: `${b.url}/v1`,
        apiKey: 'key-compat-b',
        headers: { 'x-tenant': 'compat-b' },
      },
      'vendor/gpt-4o-mini',
    ],
    servedBy: compatibleDown ? 'vendor/gpt-4o-mini' : 'openai/gpt-4o-mini',
    upstreams: [
      serverUpstream(a, { target: 'openai/gpt-4o', apiKey: 'key-openai-a' }),
      serverUpstream(b, {
        target: 'openai/gpt-4o-mini',
        apiKey: 'key-compat-b',
        headers: { 'x-tenant': 'compat-b' },
      }),
      serverUpstream(c, { target: 'vendor/gpt-4o-mini', apiKey: 'key-vendor-c' }),
    ],
  }
}

/** The fallback regression suite, each call a `generateText` or a `streamText` of one major. */
export function regressionSuite(sdk: Sdk): void {
  describe(`the fallback regression suite through ai ${sdk.major}'s generateText and streamText`, () => {
    it('keeps the frozen fallback array and each upstream’s key, primary down', async () => {
      const report = await runFallbackRegression(await overSockets(sdk, false), {
        via: 'both',
        sequentialCalls: 3,
        concurrentCalls: 16,
      })
      expect(report.calls).toBe(38)
      expect(report.requests).toEqual({
        'openai/gpt-4o': 38,
        'openai/gpt-4o-mini': 38,
        'vendor/gpt-4o-mini': 0,
      })
    })

    it('serves 64 concurrent generateText calls with the primary down: 0 wrong failures', async () => {
      const report = await runFallbackRegression(await overSockets(sdk, false), {
        sequentialCalls: 0,
        concurrentCalls: 64,
      })
      expect(report.requests).toEqual({
        'openai/gpt-4o': 64,
        'openai/gpt-4o-mini': 64,
        'vendor/gpt-4o-mini': 0,
      })
    })

    it('keeps them when the chain reaches the AI SDK provider, primary and second target down', async () => {
      const report = await runFallbackRegression(await overSockets(sdk, true), {
        via: 'both',
        sequentialCalls: 3,
        concurrentCalls: 16,
      })
      expect(report.requests).toEqual({
        'openai/gpt-4o': 38,
        'openai/gpt-4o-mini': 38,
        'vendor/gpt-4o-mini': 38,
      })
    })
  })
}
