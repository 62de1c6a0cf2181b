import { type ChatRequest, createClient } from '@understudy/core'
import {
  type FakeServer,
  type FakeServerOptions,
  type RegressionSetup,
  type Reply,
  serverUpstream,
  startFakeOpenAI,
} from '@understudy/testkit'
import { fallbackRegressionSuite } from '@understudy/testkit/vitest'
import { describe, it, onTestFinished } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

const { azure, groq, openai } = api

/**
 * Everything `@understudy/providers-openai` publishes: the factories its
 * README documents and their option types. The wire mapping (request body,
 * response and stream parsing, error bodies) stays inside.
 */
const publicAPI = [
  'azure',
  'deepseek',
  'fireworks',
  'groq',
  'lmstudio',
  'mistral',
  'ollama',
  'openai',
  'openaiCompatible',
  'openrouter',
  'together',
  'type AzureProviderOptions',
  'type OpenAICompatibleOptions',
  'type OpenAICompatiblePresetOptions',
  'type OpenAIProviderOptions',
  'vllm',
]

describe('@understudy/providers-openai', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})

const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Say hi.' }]

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

/**
 * One chain over this package's three providers, each upstream its own fake
 * server on loopback, each provider with its own configured key:
 * - `openai/gpt-4o` at server A (`openai()`, `Authorization: Bearer key-openai-a`),
 *   answering 429 with Retry-After;
 * - `groq/llama-3.3-70b` at server B (`groq()` pointed there, `Bearer key-groq-b`),
 *   a plain string target;
 * - `azure/gpt-4o` at server C (`azure()`, the `api-key: key-azure-c` header,
 *   deployment `prod-gpt-4o` by mapping), an object target with its own header.
 */
async function chain(groqReply: Reply | undefined): Promise<RegressionSetup> {
  const a = await start({ respond: { status: 429, retryAfter: '30' } })
  const b = await start(groqReply && { respond: groqReply })
  const c = await start()
  const providers = [
    openai({ baseURL: `${a.url}/v1`, apiKey: 'key-openai-a' }),
    groq({ baseURL: `${b.url}/v1`, apiKey: 'key-groq-b' }),
    azure({
      endpoint: c.url,
      apiKey: 'key-azure-c',
      apiVersion: '2024-10-21',
      deployments: { 'gpt-4o': 'prod-gpt-4o' },
    }),
  ]
  return {
    // No retries: the 429's 30 s Retry-After is never slept on, the chain moves on.
    client: createClient({ providers, retries: 0, health: { cooldownMs: 0 } }),
    request: { model: 'openai/gpt-4o', messages },
    fallbacks: ['groq/llama-3.3-70b', { model: 'azure/gpt-4o', headers: { 'x-tenant': 'c' } }],
    servedBy: groqReply === undefined ? 'groq/llama-3.3-70b' : 'azure/gpt-4o',
    upstreams: [
      serverUpstream(a, { target: 'openai/gpt-4o', apiKey: 'key-openai-a' }),
      serverUpstream(b, { target: 'groq/llama-3.3-70b', apiKey: 'key-groq-b' }),
      serverUpstream(c, {
        target: 'azure/gpt-4o',
        // The fake records Azure's deployment as the model.
        model: 'prod-gpt-4o',
        apiKey: 'key-azure-c',
        headers: { 'x-tenant': 'c' },
      }),
    ],
  }
}

fallbackRegressionSuite(
  'openai() answering 429 with Retry-After, falling back to groq() then azure()',
  () => chain(undefined),
)

fallbackRegressionSuite(
  'openai() answering 429 with Retry-After and groq() down, falling back to azure()',
  () => chain({ status: 503 }),
)
