import { describe, it } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './vitest.js'

/** Everything `@understudy/testkit/vitest` publishes: the suites, registered as Vitest tests. */
const publicAPI = [
  'fallbackRegressionSuite',
  'healthStoreConformanceSuite',
  'providerConformanceSuite',
  'streamFallbackSuite',
]

describe('@understudy/testkit/vitest', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./vitest.ts', import.meta.url), api, publicAPI)
  })
})
