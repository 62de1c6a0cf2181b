import {
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  createClient,
  type StreamEvent,
  type Target,
  type TargetObject,
} from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { mockProvider } from './mock-provider.js'
import {
  type RegressionClient,
  RegressionFailure,
  type RegressionSetup,
  type RegressionStream,
  runFallbackRegression,
} from './run-fallback-regression.js'
import { mockUpstream } from './upstream.js'

const request: ChatRequest = { model: 'acme/large', messages: [{ role: 'user', content: 'hi' }] }

/** A chain whose primary is down, over a client built by `wrap` around core's. */
function chain(
  wrap: (client: RegressionClient) => RegressionClient = (client) => client,
  backup = mockProvider('backup'),
): RegressionSetup {
  const acme = mockProvider('acme', { large: [{ fail: 'overloaded', status: 503 }] })
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

/** A client whose `stream()` hands the caller `events(inner events)` instead of core's own. */
function rewritingStream(
  events: (
    inner: AsyncIterable<StreamEvent>,
    request: ChatRequest,
  ) => AsyncGenerator<StreamEvent, void, undefined>,
) {
  return (client: RegressionClient): RegressionClient => ({
    complete: (request, options) => client.complete(request, options),
    stream(request, options): RegressionStream {
      const inner = (client.stream as NonNullable<RegressionClient['stream']>)(request, options)
      return {
        // A getter: reading core's `response` drives the stream unless a loop starts in the same tick.
        get response() {
          return inner.response
        },
        [Symbol.asyncIterator]: () => events(inner, request),
      }
    },
  })
}

describe('runFallbackRegression via stream()', () => {
  it('passes core’s client: every streamed call served by the fallback with its own key and headers', async () => {
    const backup = mockProvider('backup')
    const report = await runFallbackRegression(chain(undefined, backup), {
      sequentialCalls: 3,
      concurrentCalls: 8,
      via: 'stream',
    })
    expect(report).toEqual({
      calls: 11,
      requests: { 'acme/large': 11, 'backup/small': 11, 'backup/tiny': 0 },
    })
    expect(backup.calls.every((call) => call.method === 'stream')).toBe(true)
  })

  it('makes every call through both complete() and stream() with via both', async () => {
    const backup = mockProvider('backup')
    const report = await runFallbackRegression(chain(undefined, backup), {
      sequentialCalls: 2,
      concurrentCalls: 4,
      via: 'both',
    })
    expect(report.calls).toBe(12)
    expect(backup.calls.filter((call) => call.method === 'stream')).toHaveLength(6)
    expect(backup.calls.filter((call) => call.method === 'complete')).toHaveLength(6)
  })

  it('refuses via stream for a client without stream()', async () => {
    const completeOnly = (client: RegressionClient): RegressionClient => ({
      complete: (request, options) => client.complete(request, options),
    })
    const problems = await problemsOf(runFallbackRegression(chain(completeOnly), { via: 'stream' }))
    expect(problems).toEqual(["via 'stream' needs a client with stream(); this one has none"])
  })

  describe('fails a client that', () => {
    it('writes the fallback array in stream() (frozen: the write fails the call)', async () => {
      const popsModel = (client: RegressionClient): RegressionClient => ({
        complete: (request, options) => client.complete(request, options),
        stream(request, options) {
          for (const target of options?.fallbacks ?? []) {
            if (typeof target !== 'string') delete (target as { model?: string }).model
          }
          return (client.stream as NonNullable<RegressionClient['stream']>)(request, options)
        },
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(popsModel), {
          sequentialCalls: 1,
          concurrentCalls: 0,
          via: 'stream',
        }),
      )
      expect(problems[0]).toMatch(/^sequential call 1 failed: Cannot delete property 'model'/)
    })

    it('announces a target before its first content: a start for the failed primary', async () => {
      const announcesEarly = rewritingStream(async function* (inner, request) {
        yield { type: 'start', target: request.model, provider: 'acme', model: 'large' }
        yield* inner
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(announcesEarly), {
          sequentialCalls: 1,
          concurrentCalls: 0,
          via: 'stream',
        }),
      )
      expect(problems).toEqual([
        'sequential call 1 sent 2 start events, not one',
        'sequential call 1 sent a start event for acme/large, not backup/small',
      ])
    })

    it('hands the caller text twice: the streamed text differs from response.text', async () => {
      const repeats = rewritingStream(async function* (inner) {
        for await (const event of inner) {
          yield event
          if (event.type === 'text') yield event
        }
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(repeats), {
          sequentialCalls: 1,
          concurrentCalls: 0,
          via: 'stream',
        }),
      )
      expect(problems).toEqual([
        'sequential call 1 streamed "backup/small okbackup/small ok", but its response.text is "backup/small ok"',
      ])
    })

    it('sends content before its start, and ends without a finish', async () => {
      const reorders = rewritingStream(async function* (inner) {
        const events: StreamEvent[] = []
        for await (const event of inner) if (event.type !== 'finish') events.push(event)
        yield* events.reverse()
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(reorders), {
          sequentialCalls: 1,
          concurrentCalls: 0,
          via: 'stream',
        }),
      )
      expect(problems).toEqual([
        'sequential call 1 sent text before its start event',
        'sequential call 1 did not end with a finish event',
      ])
    })

    it('sends the primary’s key to a fallback from stream(), in concurrent calls', async () => {
      const leaksKey = (client: RegressionClient): RegressionClient => ({
        complete: (request, options) => client.complete(request, options),
        stream: (request, options) =>
          (client.stream as NonNullable<RegressionClient['stream']>)(request, {
            ...options,
            fallbacks: (options?.fallbacks ?? []).map((target) =>
              typeof target === 'string' ? target : { ...target, apiKey: options?.apiKey ?? '' },
            ),
          }),
      })
      const problems = await problemsOf(
        runFallbackRegression(chain(leaksKey), {
          sequentialCalls: 0,
          concurrentCalls: 4,
          via: 'both',
        }),
      )
      expect(problems).toContain(
        '8 concurrent calls: backup/small received a request without its own key',
      )
      expect(problems).toContain('8 concurrent calls: backup/small received the key of acme/large')
    })
  })
})
