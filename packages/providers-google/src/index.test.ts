import { type ChatRequest, createClient } from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import {
  type FakeServer,
  type RegressionSetup,
  type Reply,
  serverUpstream,
  startFakeGemini,
  startFakeOpenAI,
} from '@understudy/testkit'
import { fallbackRegressionSuite } from '@understudy/testkit/vitest'
import { describe, it, onTestFinished } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

const { google } = api

/**
 * Everything `@understudy/providers-google` publishes: the factory its
 * README documents and its option type. The wire mapping stays inside.
 */
const publicAPI = ['google', 'type GoogleProviderOptions']

describe('@understudy/providers-google', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})

const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Say hi.' }]

async function closing(server: Promise<FakeServer>): Promise<FakeServer> {
  const started = await server
  onTestFinished(() => started.close())
  return started
}

/**
 * A chain across two vendors, each upstream its own fake server on loopback:
 * - `openai/gpt-4o` at server A (`openai()`, `Authorization: Bearer key-openai-a`),
 *   answering 429 with Retry-After;
 * - `google/gemini-2.5-flash` at server B (`google()`, `x-goog-api-key: key-google-b`);
 * - `google/gemini-2.5-pro` at server C, an object target with its own key
 *   and base URL (so `google()`'s configured key never reaches it).
 */
async function chain(geminiReply: Reply | undefined): Promise<RegressionSetup> {
  const a = await closing(startFakeOpenAI({ respond: { status: 429, retryAfter: '30' } }))
  const b = await closing(startFakeGemini(geminiReply && { respond: geminiReply }))
  const c = await closing(startFakeGemini())
  const providers = [
    openai({ baseURL: `${a.url}/v1`, apiKey: 'key-openai-a' }),
    google({ baseURL: `${b.url}/v1beta`, apiKey: 'key-google-b' }),
  ]
  return {
    // No retries: the 429's 30 s Retry-After is never slept on, the chain moves on.
    client: createClient({ providers, retries: 0, health: { cooldownMs: 0 } }),
    request: { model: 'openai/gpt-4o', messages },
    fallbacks: [
      'google/gemini-2.5-flash',
      {
        model: 'google/gemini-2.5-pro',
        apiKey: 'key-google-c',
        baseURL: `${c.url}/v1beta`,
        headers: { 'x-tenant': 'c' },
      },
    ],
    servedBy: geminiReply === undefined ? 'google/gemini-2.5-flash' : 'google/gemini-2.5-pro',
    upstreams: [
      serverUpstream(a, { target: 'openai/gpt-4o', apiKey: 'key-openai-a' }),
      serverUpstream(b, { target: 'google/gemini-2.5-flash', apiKey: 'key-google-b' }),
      serverUpstream(c, {
        target: 'google/gemini-2.5-pro',
        apiKey: 'key-google-c',
        headers: { 'x-tenant': 'c' },
        baseURL: `${c.url}/v1beta`,
      }),
    ],
  }
}

fallbackRegressionSuite('openai() answering 429 with Retry-After, falling back to google()', () =>
  chain(undefined),
)

fallbackRegressionSuite(
  'openai() answering 429 and the first google() target down, falling back to a Gemini target with its own key',
  () => chain({ status: 503 }),
)
