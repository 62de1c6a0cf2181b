import {
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  createClient,
  type Target,
  type TargetObject,
} from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { mockProvider } from './mock-provider.js'
import {
  type RegressionClient,
  RegressionFailure,
  type RegressionSetup,
  runFallbackRegression,
} from './run-fallback-regression.js'
import { mockUpstream } from './upstream.js'

const request: ChatRequest = { model: 'acme/large', messages: [{ role: 'user', content: 'hi' }] }

/** A chain whose primary is down, over a client built by `wrap` around core's. */
function chain(
  wrap: (client: RegressionClient) => RegressionClient = (client) => client,
): RegressionSetup {
  const acme = mockProvider('acme', { large: [{ fail: 'overloaded', status: 503 }] })
  const backup = mockProvider('backup')
  const client = createClient({ providers: [acme, backup], retries: 0, health: { cooldownMs: 0 } })
  return {
    client: wrap(client),
    request,
    fallbacks: [
      { model: 'backup/small', apiKey: 'key-backup-small', headers: { 'x-tenant': 'small' } },
      { model: 'backup/tiny', apiKey: 'key-backup-tiny' },
    ],
    options: { apiKey: 'key-acme-primary' },
    servedBy: 'backup/small',
    upstreams: [
      mockUpstream(acme, { target: 'acme/large', apiKey: 'key-acme-primary' }),
      mockUpstream(backup, {
        target: 'backup/small',
        apiKey: 'key-backup-small',
        headers: { 'x-tenant': 'small' },
      }),
      mockUpstream(backup, { target: 'backup/tiny', apiKey: 'key-backup-tiny' }),
    ],
  }
}

async function problemsOf(run: Promise<unknown>): Promise<readonly string[]> {
  const error = await run.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(RegressionFailure)
  return (error as RegressionFailure).problems
}

describe('runFallbackRegression', () => {
  it('passes core’s client: every call served by the fallback with its own key and headers', async () => {
    const report = await runFallbackRegression(chain(), { sequentialCalls: 3, concurrentCalls: 8 })
    expect(report).toEqual({
      calls: 11,
      requests: { 'acme/large': 11, 'backup/small': 11, 'backup/tiny': 0 },
    })
  })

  it('passes core’s client over an unfrozen array too', async () => {
    await expect(runFallbackRegression(chain(), { freeze: false })).resolves.toMatchObject({
      calls: 21,
    })
  })

  it('deep-freezes the fallback array, its targets and their headers', async () => {
    const setup = chain()
    await runFallbackRegression(setup, { sequentialCalls: 1, concurrentCalls: 0 })
    const first = setup.fallbacks[0] as TargetObject
    expect(Object.isFrozen(setup.fallbacks)).toBe(true)
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first.headers)).toBe(true)
  })

  describe('fails a client that', () => {
    // litellm #28251: `model = fallback.pop("model", original_model)` on the caller's own dicts.
    const popsModel = (client: RegressionClient): RegressionClient => ({
      complete(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
        const fallbacks = (options?.fallbacks ?? []).map((target): Target => {
          if (typeof target === 'string') return target
          const record = target as unknown as Record<string, unknown>
          const model = typeof record.model === 'string' ? record.model : request.model
          delete record.model
          return { ...target, model }
        })
        return client.complete(request, { ...options, fallbacks })
      },
    })

    it('writes the fallback array (frozen: the write itself fails the call)', async () => {
      const problems = await problemsOf(
        runFallbackRegression(chain(popsModel), { sequentialCalls: 2, concurrentCalls: 0 }),
      )
      expect(problems[0]).toMatch(/^sequential call 1 failed: Cannot delete property 'model'/)
    })

    it('writes the fallback array (unfrozen: later calls reach the wrong model with the wrong key)', async () => {
      const problems = await problemsOf(
        runFallbackRegression(chain(popsModel), {
          sequentialCalls: 2,
          concurrentCalls: 0,
          freeze: false,
        }),
      )
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^after sequential call 1 the fallback array differs from its snapshot/,
          ),
          'sequential call 2: acme/large received a request without its own key',
          'sequential call 2: acme/large received the key of backup/small',
        ]),
      )
    })

    it('sends the primary’s key to a fallback', async () => {
      const leaksKey = (client: RegressionClient): RegressionClient => ({
        complete: (request, options) =>
          client.complete(request, {
            ...options,
            fallbacks: (options?.fallbacks ?? []).map((target) =>
              typeof target === 'string' ? target : { ...target, apiKey: options?.apiKey ?? '' },
            ),
          }),
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(leaksKey), { sequentialCalls: 1, concurrentCalls: 0 }),
      )
      expect(problems).toContain(
        'sequential call 1: backup/small received a request without its own key',
      )
      expect(problems).toContain('sequential call 1: backup/small received the key of acme/large')
    })

    it('sends one target’s headers to another', async () => {
      const spreadsHeaders = (client: RegressionClient): RegressionClient => ({
        complete: (request, options) =>
          client.complete(request, { ...options, headers: { 'x-tenant': 'small' } }),
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(spreadsHeaders), { sequentialCalls: 1, concurrentCalls: 0 }),
      )
      expect(problems).toContain(
        'sequential call 1: acme/large received header x-tenant meant for backup/small',
      )
    })

    it('keeps a shared "current target" index across concurrent calls', async () => {
      // A peer's design: one index on the client, moved on failure, reset per call.
      const sharedIndex = (client: RegressionClient): RegressionClient => {
        let current = 0
        return {
          async complete(request, options) {
            current = 0
            const chain = [request.model, ...(options?.fallbacks ?? [])]
            for (;;) {
              const target = chain[current]
              if (target === undefined) throw new Error('ran out of targets')
              const model = typeof target === 'string' ? target : target.model
              const own: CallOptions =
                typeof target === 'string'
                  ? {}
                  : {
                      ...(target.apiKey !== undefined && { apiKey: target.apiKey }),
                      ...(target.headers !== undefined && { headers: target.headers }),
                    }
              try {
                return await client.complete(
                  { ...request, model },
                  { ...own, retries: 0, fallbacks: [] },
                )
              } catch {
                current += 1
              }
            }
          },
        }
      }
      const problems = await problemsOf(
        runFallbackRegression(chain(sharedIndex), { sequentialCalls: 0, concurrentCalls: 16 }),
      )
      expect(
        problems.some((problem) => / was served by backup\/tiny, not backup\/small$/.test(problem)),
      ).toBe(true)
    })
  })
})
