/** @module The testkit's suites as Vitest tests: call them inside a test file. */
import { describe, it } from 'vitest'
import { type ConformanceSetup, providerConformanceChecks } from './run-provider-conformance.js'
import {
  type RegressionOptions,
  type RegressionSetup,
  runFallbackRegression,
} from './run-fallback-regression.js'

/**
 * Registers the fallback regression suite as Vitest tests. `setup` builds a
 * fresh client, chain and upstreams for each test; the primary must fail.
 * Three tests: sequential calls over a frozen fallback array, concurrent
 * calls over it, and sequential calls over an unfrozen one (what an
 * application does), each checking the array, the serving target and where
 * every credential went.
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
  describe(`fallback regression: ${name}`, () => {
    it('serves sequential calls over one frozen fallback array from the right target, each with its own credentials', async () => {
      await runFallbackRegression(await setup(), { ...options, concurrentCalls: 0 })
    })
    it('serves concurrent calls over one frozen fallback array from the right target, each with its own credentials', async () => {
      await runFallbackRegression(await setup(), { ...options, sequentialCalls: 0 })
    })
    it('leaves an unfrozen fallback array as it was, call after call', async () => {
      await runFallbackRegression(await setup(), { ...options, concurrentCalls: 0, freeze: false })
    })
  })
}

/**
 * Registers the provider conformance suite as Vitest tests, one per check:
 * what any provider must do to take part in fallbacks (typed errors,
 * Retry-After, one request per attempt, abort, an unwritten request, no key
 * in errors, the streaming contract).
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
    for (const check of providerConformanceChecks(setup)) it(check.name, check.run)
  })
}
