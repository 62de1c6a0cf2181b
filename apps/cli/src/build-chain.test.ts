import { createClient } from '@understudy/core'
import { startFakeOpenAI } from '@understudy/testkit'
import { Agent } from 'undici'
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { buildChain } from './build-chain.js'
import { isCliError } from './cli-error.js'
import type { ConfigFile } from './config-file.js'
import { providerRegistry } from './provider-registry.js'

const loaded = (config: ConfigFile) => ({ file: 'chain.yaml', config, warnings: [] })

/** The CliError `promise` rejects with, as `kind: message`. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (isCliError(error)) return `${error.kind}: ${error.message}`
    throw error
  }
  throw new Error('expected a CliError')
}

describe('buildChain', () => {
  // The factories read their keys from process.env themselves (the `env` given is for apiKeyEnv).
  beforeEach(() => {
    vi.stubEnv('OPENAI_API_KEY', 'k1')
    vi.stubEnv('GROQ_API_KEY', 'k2')
  })

  it('lets the command line win over the file: model, fallbacks, timeout, retries', async () => {
    const chain = await buildChain(
      'hi',
      { model: 'groq/llama', fallbacks: ['openai/gpt-4o-mini'], timeoutMs: 1500, retries: 0 },
      loaded({
        model: 'openai/gpt-4o',
        fallbacks: ['groq/other'],
        timeoutMs: 60_000,
        retries: 3,
        attemptTimeoutMs: 900,
      }),
      { OPENAI_API_KEY: 'k1', GROQ_API_KEY: 'k2' },
    )
    expect(chain.request).toEqual({
      model: 'groq/llama',
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(chain.callOptions).toEqual({
      fallbacks: ['openai/gpt-4o-mini'],
      timeoutMs: 1500,
      retries: 0,
      attemptTimeoutMs: 900,
    })
    expect(chain.providers.map((provider) => provider.id).sort()).toEqual(['groq', 'openai'])
  })

  it('makes one provider per prefix the chains use, none for the others', async () => {
    const chain = await buildChain(
      'hi',
      { fallbacks: [] },
      loaded({
        model: 'openai/gpt-4o',
        contentPolicyFallbacks: ['local/qwen'],
        providers: {
          local: {
            type: 'openai-compatible',
            baseURL: 'http://127.0.0.1:9/v1',
            keyRequired: false,
          },
          unused: { type: 'groq', apiKeyEnv: 'NOT_SET_ANYWHERE' },
        },
      }),
      { OPENAI_API_KEY: 'k' },
    )
    expect(chain.providers.map((provider) => provider.id)).toEqual(['openai', 'local'])
  })

  it('reads a target key from apiKeyEnv, and refuses both apiKey and apiKeyEnv', async () => {
    const chain = await buildChain(
      'hi',
      { fallbacks: [] },
      loaded({
        model: 'openai/gpt-4o',
        fallbacks: [{ model: 'openai/gpt-4o-mini', apiKeyEnv: 'BACKUP' }],
      }),
      { OPENAI_API_KEY: 'k', BACKUP: 'key-backup' },
    )
    expect(chain.callOptions.fallbacks).toEqual([
      { model: 'openai/gpt-4o-mini', apiKey: 'key-backup' },
    ])
    expect(
      await failure(
        buildChain(
          'hi',
          { fallbacks: [] },
          loaded({
            model: 'openai/gpt-4o',
            fallbacks: [{ model: 'openai/x', apiKey: 'a', apiKeyEnv: 'B' }],
          }),
          { OPENAI_API_KEY: 'k', B: 'b' },
        ),
      ),
    ).toBe('config: chain.yaml: fallbacks[0]: give apiKey or apiKeyEnv, not both')
  })

  it('keeps a fixed-id provider under its own name', async () => {
    expect(
      await failure(
        buildChain(
          'hi',
          { fallbacks: [] },
          loaded({
            model: 'backup/gpt-4o',
            providers: { backup: { type: 'openai', apiKey: 'k' } },
          }),
          {},
        ),
      ),
    ).toContain(
      'config: chain.yaml: providers.backup: a provider of type "openai" serves the targets "openai/…"',
    )
  })

  it("sends every provider's requests through the command's dispatcher", async () => {
    const server = await startFakeOpenAI()
    onTestFinished(() => server.close())
    vi.stubEnv('OPENAI_BASE_URL', `${server.url}/v1`)
    const dispatcher = new Agent()
    const chain = await buildChain(
      'hi',
      { model: 'openai/gpt-4o', fallbacks: [] },
      undefined,
      {},
      { dispatcher },
    )
    const client = createClient({ providers: chain.providers, retries: 0 })
    expect((await client.complete(chain.request)).text).toBe('Hello from the fake server.')
    await dispatcher.close()
    // Closed, the command's pool refuses: the provider sends through it, not undici's global one.
    await expect(client.complete(chain.request)).rejects.toMatchObject({ kind: 'all_failed' })
    expect(server.requests).toHaveLength(1)
  })
})

describe('providerRegistry', () => {
  it('loads a factory for every type it lists', async () => {
    for (const [type, entry] of Object.entries(providerRegistry))
      expect(typeof (await entry.load()), type).toBe('function')
  })
})
