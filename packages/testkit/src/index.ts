/** @module Mock providers, fake wire servers and the suites that prove a fallback setup right. */
export { startFakeServer } from './fake-server.js'
export type { FakeServer, FakeServerOptions, RecordedRequest } from './fake-server.js'
export type { Dialect, DialectRequest, DialectRoute, DialectStream } from './dialect.js'
export type { SseEvent } from './sse.js'
export { startFakeAnthropic } from './start-fake-anthropic.js'
export type {
  AnswerReply,
  ErrorReply,
  Fault,
  FaultReply,
  RawReply,
  Reply,
  ReplyExtras,
  ReplyToolCall,
} from './reply.js'
export { startFakeOpenAI } from './start-fake-openai.js'
export { startFakeGemini } from './start-fake-gemini.js'
export { deepFreeze } from './deep-freeze.js'
export { RegressionFailure, runFallbackRegression } from './run-fallback-regression.js'
export type {
  RegressionClient,
  RegressionOptions,
  RegressionReport,
  RegressionSetup,
  RegressionStream,
  RegressionVia,
} from './run-fallback-regression.js'
export { mockUpstream, serverUpstream } from './upstream.js'
export type { ObservedRequest, RecordedCalls, Upstream, UpstreamExpectation } from './upstream.js'
export {
  ConformanceFailure,
  defaultStatusKinds,
  providerConformanceChecks,
} from './run-provider-conformance.js'
export type {
  ConformanceCheck,
  ConformanceSetup,
  ServerSetup,
} from './run-provider-conformance.js'
export { healthStoreConformanceChecks } from './run-health-store-conformance.js'
export type { HealthStoreSetup } from './run-health-store-conformance.js'
export { StreamFallbackFailure, streamFallbackChecks } from './run-stream-fallback.js'
export type { StreamFallbackCheck, StreamFallbackSetup } from './run-stream-fallback.js'
export { hostileMockProvider, mockProvider } from './mock-provider.js'
export type { MockCall, MockProvider, MockProviderOptions } from './mock-provider.js'
export type {
  MockChunk,
  MockFailOnReadStep,
  MockFailStep,
  MockFailure,
  MockHangStep,
  MockScripts,
  MockStep,
  MockStreamStep,
  MockSucceedStep,
  MockThrowStep,
  MockToolCall,
} from './mock-step.js'
export { fakeClock } from './fake-clock.js'
export type { FakeClock, Settled, SettleOptions } from './fake-clock.js'
export { fixtureReply } from './fixture-reply.js'
export { testTimeScale } from './time-scale.js'
export type { FixtureReplyOptions } from './fixture-reply.js'
