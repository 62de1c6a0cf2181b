import {
  type CallOptions,
  type ChatRequest,
  createClient,
  type TargetObject,
} from '@understudy/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import { mockProvider } from './mock-provider.js'
import type { Reply } from './reply.js'
import {
  type RegressionClient,
  RegressionFailure,
  type RegressionSetup,
  runFallbackRegression,
} from './run-fallback-regression.js'
import { startFakeOpenAI } from './start-fake-openai.js'
import { referenceOpenAIProvider } from './test-support/reference-openai-provider.js'
import { mockUpstream, serverUpstream } from './upstream.js'
import { fallbackRegressionSuite } from './vitest.js'

const messages: ChatRequest['messages'] = [{ role: 'user', content: 'Say hi.' }]

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

// (a) Core's client over in-process mock providers. `retries: 0` keeps the
// backoff's real sleeps out; `cooldownMs: 0` keeps the primary in every call,
// so every call goes through the fallback path.
fallbackRegressionSuite('core client over mock providers', () => {
  const acme = mockProvider('acme', { large: [{ fail: 'overloaded', status: 503 }] })
  const backup = mockProvider('backup')
  return {
    client: createClient({ providers: [acme, backup], retries: 0, health: { cooldownMs: 0 } }),
    request: { model: 'acme/large', messages },
    fallbacks: [
      {
        model: 'backup/small',
        apiKey: 'key-backup-small',
        baseURL: 'https://small.backup.test/v1',
        headers: { 'x-tenant': 'small' },
      },
      { model: 'backup/tiny', apiKey: 'key-backup-tiny', headers: { 'x-tenant': 'tiny' } },
    ],
    // Call-level credentials belong to the primary only.
    options: { apiKey: 'key-acme-primary', headers: { 'x-tenant': 'primary' } },
    servedBy: 'backup/small',
    upstreams: [
      mockUpstream(acme, {
        target: 'acme/large',
        apiKey: 'key-acme-primary',
        headers: { 'x-tenant': 'primary' },
      }),
      mockUpstream(backup, {
        target: 'backup/small',
        apiKey: 'key-backup-small',
        baseURL: 'https://small.backup.test/v1',
        headers: { 'x-tenant': 'small' },
      }),
      mockUpstream(backup, {
        target: 'backup/tiny',
        apiKey: 'key-backup-tiny',
        headers: { 'x-tenant': 'tiny' },
      }),
    ],
  }
})

/** What each fake server of {@link overSockets} answers. */
interface ServerReplies {
  readonly primary: Reply
  readonly compatible?: Reply
}

/**
 * (b) A chain over real sockets, each upstream its own fake server:
 * - `openai/gpt-4o` at server A, with the `openai` provider's configured key;
 * - `openai/gpt-4o-mini` at server B, an OpenAI-compatible target with its
 *   own `baseURL`, key and headers;
 * - `azure/prod-gpt-4o`, a plain string target: the `azure` provider's
 *   configured key, on Azure's deployment path at server C. The reference
 *   provider appends `/chat/completions` to its base URL, so the base URL
 *   carries the deployment; it sends no `api-version` query (the fake does
 *   not require one) and the key as a Bearer token, not `api-key`.
 */
async function overSockets(replies: ServerReplies): Promise<RegressionSetup> {
  const a = await start({ respond: replies.primary })
  const b = await start(replies.compatible && { respond: replies.compatible })
  const c = await start()
  const openai = referenceOpenAIProvider({ baseURL: `${a.url}/v1`, apiKey: 'key-openai-a' })
  const azure = referenceOpenAIProvider({
    id: 'azure',
    baseURL: `${c.url}/openai/deployments/prod-gpt-4o`,
    apiKey: 'key-azure-c',
  })
  const compatible: TargetObject = {
    model: 'openai/gpt-4o-mini',
    baseURL: `${b.url}/v1`,
    apiKey: 'key-compat-b',
    headers: { 'x-tenant': 'compat-b' },
  }
  return {
    client: createClient({ providers: [openai, azure], retries: 0, health: { cooldownMs: 0 } }),
    request: { model: 'openai/gpt-4o', messages },
    fallbacks: [compatible, 'azure/prod-gpt-4o'],
    servedBy: replies.compatible === undefined ? 'openai/gpt-4o-mini' : 'azure/prod-gpt-4o',
    upstreams: [
      serverUpstream(a, { target: 'openai/gpt-4o', apiKey: 'key-openai-a' }),
      serverUpstream(b, {
        target: 'openai/gpt-4o-mini',
        apiKey: 'key-compat-b',
        headers: { 'x-tenant': 'compat-b' },
      }),
      serverUpstream(c, { target: 'azure/prod-gpt-4o', apiKey: 'key-azure-c' }),
    ],
  }
}

fallbackRegressionSuite('core client over fake servers, primary answering 503', () =>
  overSockets({ primary: { status: 503 } }),
)

fallbackRegressionSuite(
  'core client over fake servers, primary answering 429 with Retry-After and the compatible target down',
  () => overSockets({ primary: { status: 429, retryAfter: '2' }, compatible: { status: 503 } }),
)

/**
 * A peer's design, as a wrapper over core's client: one "current target"
 * index on the client object, reset at the start of each call and moved on at
 * each failure, every target called alone with its own credentials.
 */
function sharedIndexClient(client: RegressionClient): RegressionClient {
  let current = 0
  return {
    async complete(request, options) {
      current = 0
      const chain = [request.model, ...(options?.fallbacks ?? [])]
      for (;;) {
        const target = chain[current]
        if (target === undefined) throw new Error('every target failed')
        const own: CallOptions =
          typeof target === 'string'
            ? {}
            : {
                ...(target.apiKey !== undefined && { apiKey: target.apiKey }),
                ...(target.baseURL !== undefined && { baseURL: target.baseURL }),
                ...(target.headers !== undefined && { headers: target.headers }),
              }
        const model = typeof target === 'string' ? target : target.model
        try {
          return await client.complete({ ...request, model }, { ...own, fallbacks: [] })
        } catch {
          current += 1
        }
      }
    },
  }
}

describe('the fallback regression suite under 64 concurrent calls, primary down', () => {
  it('finds core’s client right: every call served by the compatible target, each upstream seeing its own key only', async () => {
    const setup = await overSockets({ primary: { status: 503 } })
    const report = await runFallbackRegression(setup, { sequentialCalls: 0, concurrentCalls: 64 })
    expect(report).toEqual({
      calls: 64,
      requests: { 'openai/gpt-4o': 64, 'openai/gpt-4o-mini': 64, 'azure/prod-gpt-4o': 0 },
    })
    const [a, b] = setup.upstreams.map((upstream) => upstream.requests())
    expect(new Set(a?.map((request) => request.headers.authorization))).toEqual(
      new Set(['Bearer key-openai-a']),
    )
    expect(new Set(b?.map((request) => request.headers.authorization))).toEqual(
      new Set(['Bearer key-compat-b']),
    )
  })

  it('finds a client with a shared "current target" index wrong: calls fail or reach the wrong target', async () => {
    const setup = await overSockets({ primary: { status: 503 } })
    const error = await runFallbackRegression(
      { ...setup, client: sharedIndexClient(setup.client) },
      { sequentialCalls: 0, concurrentCalls: 64 },
    ).catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(RegressionFailure)
    const wrong = (error as RegressionFailure).problems.filter((problem) =>
      /^concurrent call \d+ (was served by azure\/prod-gpt-4o, not|failed: every target failed)/.test(
        problem,
      ),
    )
    // All 64 calls reset the index and reach the primary before its first 503
    // comes back; then each 503 moves the one index on: the first call to fail
    // goes to the compatible target, the second to Azure, the rest run out of
    // targets. In our runs: 63 of 64 wrong (1 served by Azure, 62 failed).
    expect(wrong.length).toBeGreaterThan(0)
  })
})
