/** @module The testkit's suites as Vitest tests: call them inside a test file. */
import { describe, it } from 'vitest'
import { type ConformanceSetup, providerConformanceChecks } from './run-provider-conformance.js'
import { type StreamFallbackSetup, streamFallbackChecks } from './run-stream-fallback.js'
import {
  type HealthStoreSetup,
  healthStoreConformanceChecks,
} from './run-health-store-conformance.js'
import {
  type RegressionOptions,
  type RegressionSetup,
  runFallbackRegression,
} from './run-fallback-regression.js'

/**
 * Registers the fallback regression suite as Vitest tests. `setup` builds a
 * fresh client, chain and upstreams for each test; the primary must fail
 * before its first content. Three tests: sequential calls over a frozen
 * fallback array, concurrent calls over it, and sequential calls over an
 * unfrozen one (what an application does), each checking the array, the
 * serving target and where every credential went.
 *
 * Each call is made through `complete()` and, when the client has `stream`,
 * through `stream()` too (concurrent ones all in flight together), a streamed
 * call also showing the caller one `start` for the serving target and text
 * equal to its `response.text`. `options.via` picks the calls instead.
 *
 * @example
 * fallbackRegressionSuite('my client', async () => {
 *   const primary = mockProvider('acme', { large: [{ fail: 'overloaded', status: 503 }] })
 *   const backup = mockProvider('backup')
 *   return {
 *     client: createClient({ providers: [primary, backup] }),
 *     request: { model: 'acme/large', messages: [{ role: 'user', content: 'hi' }] },
 *     fallbacks: [{ model: 'backup/small', apiKey: 'key-b' }],
 *     servedBy: 'backup/small',
 *     upstreams: [mockUpstream(primary, { target: 'acme/large' }), mockUpstream(backup, { target: 'backup/small', apiKey: 'key-b' })],
 *   }
 * })
 */
export function fallbackRegressionSuite(
  name: string,
  setup: () => RegressionSetup | Promise<RegressionSetup>,
  options: RegressionOptions = {},
): void {
  const run = async (overrides: RegressionOptions): Promise<void> => {
    const built = await setup()
    const via = options.via ?? (built.client.stream === undefined ? 'complete' : 'both')
    await runFallbackRegression(built, { ...options, via, ...overrides })
  }
  describe(`fallback regression: ${name}`, () => {
    it('serves sequential calls over one frozen fallback array from the right target, each with its own credentials', async () => {
      await run({ concurrentCalls: 0 })
    })
    it('serves concurrent calls over one frozen fallback array from the right target, each with its own credentials', async () => {
      await run({ sequentialCalls: 0 })
    })
    it('leaves an unfrozen fallback array as it was, call after call', async () => {
      await run({ concurrentCalls: 0, freeze: false })
    })
  })
}

/**
 * Registers the provider conformance suite as Vitest tests, one per check:
 * what any provider must do to take part in fallbacks (typed errors,
 * Retry-After, one request per attempt, abort, an unwritten request, no key
 * in errors, the streaming contract). Each test's timeout is its check's
 * `timeoutMs`, scaled like its waits by `timeScale` or
 * `UNDERSTUDY_TEST_TIME_SCALE`.
 *
 * @example
 * providerConformanceSuite('my provider', {
 *   provider: ({ baseURL, apiKey }) => myProvider({ baseURL, apiKey }),
 *   startServer: startFakeOpenAI,
 *   baseURL: (server) => `${server.url}/v1`,
 * })
 */
export function providerConformanceSuite(name: string, setup: ConformanceSetup): void {
  describe(`provider conformance: ${name}`, () => {
    for (const check of providerConformanceChecks(setup)) it(check.name, check.run, check.timeoutMs)
  })
}

/**
 * Registers the streaming-with-fallbacks suite as Vitest tests, one per
 * check: `client.stream()` with `setup`'s provider as primary and fallback,
 * over real sockets to its dialect's fake server. Every failure before the
 * first content falls back unseen; every failure after it ends the stream
 * with the delivered `partial`; abort, `break` and a lost hedge close the
 * upstream connection; continuation is handed on or refused as the
 * provider's `assistantPrefix` says; no timer or open response is left.
 * Written once for every dialect: run it for each provider. Each test's
 * timeout is its check's `timeoutMs` (`15 × limitMs × timeScale`); set
 * `UNDERSTUDY_TEST_TIME_SCALE` or `timeScale` on a slow machine.
 *
 * @example
 * streamFallbackSuite('openai()', {
 *   provider: ({ baseURL, apiKey }) => openai({ baseURL, apiKey }),
 *   startServer: startFakeOpenAI,
 *   baseURL: (server) => `${server.url}/v1`,
 * })
 */
export function streamFallbackSuite(name: string, setup: StreamFallbackSetup): void {
  describe(`streaming with fallbacks: ${name}`, () => {
    for (const check of streamFallbackChecks(setup)) it(check.name, check.run, check.timeoutMs)
  })
}

/**
 * Registers the health store conformance suite as Vitest tests, one per
 * check: what a health store for another backend must do to stand in for
 * core's in-memory one (minimum calls, failure rate over a window, cooldowns
 * that only move later, Retry-After before the minimum, `cooldownMs: 0`,
 * targets kept apart, the same cooldowns as the in-memory store over seeded
 * random sequences). Each check builds its own store with `setup.store()`.
 *
 * @example
 * healthStoreConformanceSuite('in-memory store', { store: () => createMemoryHealthStore() })
 */
export function healthStoreConformanceSuite(name: string, setup: HealthStoreSetup): void {
  describe(`health store conformance: ${name}`, () => {
    for (const check of healthStoreConformanceChecks(setup))
      it(check.name, check.run, check.timeoutMs)
  })
}
