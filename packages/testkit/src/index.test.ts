import { describe, it } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

/**
 * Everything `@understudy/testkit` publishes from its main entry: the mock
 * provider and its script types, the three fake servers and their replies,
 * the generic fake server and the `Dialect` a vendor with its own wire format
 * writes for it, the fake clock, the suites' runner-agnostic forms (the health store conformance checks among them) and the
 * time scale their real-time limits read. The built-in dialects
 * (`openaiDialect`, …) and `formatSseEvent` stay inside: `startFakeOpenAI()`
 * and its siblings are how they are used.
 */
const publicAPI = [
  'ConformanceFailure',
  'RegressionFailure',
  'StreamFallbackFailure',
  'deepFreeze',
  'defaultStatusKinds',
  'fakeClock',
  'fixtureReply',
  'healthStoreConformanceChecks',
  'hostileMockProvider',
  'mockProvider',
  'mockUpstream',
  'providerConformanceChecks',
  'runFallbackRegression',
  'serverUpstream',
  'startFakeAnthropic',
  'startFakeGemini',
  'startFakeOpenAI',
  'startFakeServer',
  'streamFallbackChecks',
  'testTimeScale',
  'type AnswerReply',
  'type ConformanceCheck',
  'type ConformanceSetup',
  'type Dialect',
  'type DialectRequest',
  'type DialectRoute',
  'type DialectStream',
  'type ErrorReply',
  'type FakeClock',
  'type FakeServer',
  'type FakeServerOptions',
  'type Fault',
  'type FaultReply',
  'type FixtureReplyOptions',
  'type HealthStoreSetup',
  'type MockCall',
  'type MockChunk',
  'type MockFailOnReadStep',
  'type MockFailStep',
  'type MockFailure',
  'type MockHangStep',
  'type MockProvider',
  'type MockProviderOptions',
  'type MockScripts',
  'type MockStep',
  'type MockStreamStep',
  'type MockSucceedStep',
  'type MockThrowStep',
  'type MockToolCall',
  'type ObservedRequest',
  'type RawReply',
  'type RecordedCalls',
  'type RecordedRequest',
  'type RegressionClient',
  'type RegressionOptions',
  'type RegressionReport',
  'type RegressionSetup',
  'type RegressionStream',
  'type RegressionVia',
  'type Reply',
  'type ReplyExtras',
  'type ReplyToolCall',
  'type ServerSetup',
  'type SettleOptions',
  'type Settled',
  'type SseEvent',
  'type StreamFallbackCheck',
  'type StreamFallbackSetup',
  'type Upstream',
  'type UpstreamExpectation',
]

describe('@understudy/testkit', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})
