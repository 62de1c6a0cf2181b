import { type ChatRequest, createClient } from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import {
  type FakeServer,
  type FakeServerOptions,
  type RegressionSetup,
  serverUpstream,
  startFakeAnthropic,
  startFakeOpenAI,
} from '@understudy/testkit'
import { fallbackRegressionSuite } from '@understudy/testkit/vitest'
import { describe, expect, it, onTestFinished } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

const { anthropic } = api

/**
 * Everything `@understudy/providers-anthropic` publishes: the factory, its
 * documented defaults and their types. The wire mapping stays inside.
 */
const publicAPI = [
  'anthropic',
  'anthropicVersions',
  'defaultAnthropicMaxTokens',
  'defaultAnthropicVersion',
  'type AnthropicProviderOptions',
  'type AnthropicVersion',
]

describe('@understudy/providers-anthropic', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})

const messages: ChatRequest['messages'] = [
  { role: 'user', content: 'What is the weather in Paris?' },
]
const tools: NonNullable<ChatRequest['tools']> = [
  {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
]

async function start(
  starter: (options?: FakeServerOptions) => Promise<FakeServer>,
  options?: FakeServerOptions,
): Promise<FakeServer> {
  const server = await starter(options)
  onTestFinished(() => server.close())
  return server
}

/**
 * The cross-vendor chain: `openai/gpt-4o` at a fake OpenAI server
 * (`Authorization: Bearer key-openai`) answering 429 with Retry-After, then
 * `anthropic/claude-sonnet-4-5` at a fake Anthropic server (`x-api-key:
 * key-anthropic`), each provider with its own configured key.
 */
async function crossVendor(): Promise<RegressionSetup> {
  const a = await start(startFakeOpenAI, { respond: { status: 429, retryAfter: '30' } })
  const b = await start(startFakeAnthropic)
  const providers = [
    openai({ baseURL: `${a.url}/v1`, apiKey: 'key-openai' }),
    anthropic({ baseURL: b.url, apiKey: 'key-anthropic' }),
  ]
  return {
    client: createClient({ providers, retries: 0, health: { cooldownMs: 0 } }),
    request: { model: 'openai/gpt-4o', messages, tools },
    fallbacks: ['anthropic/claude-sonnet-4-5'],
    servedBy: 'anthropic/claude-sonnet-4-5',
    upstreams: [
      serverUpstream(a, { target: 'openai/gpt-4o', apiKey: 'key-openai' }),
      serverUpstream(b, { target: 'anthropic/claude-sonnet-4-5', apiKey: 'key-anthropic' }),
    ],
  }
}

fallbackRegressionSuite(
  'openai() answering 429 with Retry-After, falling back to anthropic()',
  crossVendor,
)

describe('an OpenAI → Claude chain', () => {
  it('serves one request with tools from either vendor, each key in its own header', async () => {
    const primary = await start(startFakeOpenAI)
    const backup = await start(startFakeAnthropic)
    const reply = {
      toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    }
    primary.script('gpt-4o', reply, { status: 503 }, reply, { status: 503 })
    backup.script('claude-sonnet-4-5', reply)
    const client = createClient({
      providers: [
        openai({ baseURL: `${primary.url}/v1`, apiKey: 'key-openai' }),
        anthropic({ baseURL: backup.url, apiKey: 'key-anthropic' }),
      ],
      retries: 0,
      health: { cooldownMs: 0 },
    })
    const request: ChatRequest = { model: 'openai/gpt-4o', messages, tools, toolChoice: 'required' }
    const options = { fallbacks: ['anthropic/claude-sonnet-4-5'] }

    const fromOpenAI = await client.complete(request, options)
    const fromClaude = await client.complete(request, options)
    const streamedOpenAI = await client.stream(request, options).response
    const streamedClaude = await client.stream(request, options).response

    for (const response of [fromOpenAI, fromClaude, streamedOpenAI, streamedClaude]) {
      expect(response.finishReason).toBe('tool_calls')
      expect(response.toolCalls).toEqual([
        { id: expect.any(String), name: 'get_weather', arguments: '{"city":"Paris"}' },
      ])
    }
    expect([fromOpenAI, fromClaude, streamedOpenAI, streamedClaude].map((r) => r.provider)).toEqual(
      ['openai', 'anthropic', 'openai', 'anthropic'],
    )
    for (const seen of primary.requests) {
      expect(seen.headers.authorization).toBe('Bearer key-openai')
      expect(seen.headers['x-api-key']).toBeUndefined()
    }
    for (const seen of backup.requests) {
      expect(seen.headers['x-api-key']).toBe('key-anthropic')
      expect(seen.headers.authorization).toBeUndefined()
      expect(seen.body).toMatchObject({
        tools: [{ name: 'get_weather', input_schema: tools[0]?.parameters }],
        tool_choice: { type: 'any' },
      })
    }
    expect(backup.requests).toHaveLength(2)
  })
})
