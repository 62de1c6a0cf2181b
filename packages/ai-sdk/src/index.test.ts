import { describe, it } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

/**
 * Everything `@understudy/ai-sdk` publishes: the two directions of the
 * bridge and the types of what they take and give (the trace in
 * `providerMetadata.understudy`, the `data` of a failed chain's
 * `APICallError`). The conversions between the two request and stream
 * shapes stay inside.
 */
const publicAPI = [
  'fromAISDK',
  'understudyModel',
  'type AISDKLanguageModel',
  'type AISDKProvider',
  'type FromAISDKOptions',
  'type TraceAttempt',
  'type UnderstudyErrorData',
  'type UnderstudyModelOptions',
  'type UnderstudyTrace',
]

describe('@understudy/ai-sdk', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})
