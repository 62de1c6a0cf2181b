/** @module The fallback engine: a client that retries and falls back along a chain of targets. */
export { createClient } from './create-client.js'
export type { Client } from './create-client.js'
export type { ChatStream } from './chat-stream.js'
export type {
  BackoffOptions,
  CallDefaults,
  CallOptions,
  ClientOptions,
  HealthOptions,
  MidStream,
} from './options.js'
export type {
  AssistantMessage,
  ChatParamName,
  ChatParams,
  ChatRequest,
  ImagePart,
  JsonValue,
  Message,
  ProviderState,
  ResponseFormat,
  SystemMessage,
  TextPart,
  Tool,
  ToolCall,
  ToolChoice,
  ToolMessage,
  UserMessage,
} from './chat-request.js'
export type { ChatResponse, FinishReason, ProviderResponse, Usage } from './chat-response.js'
export type {
  FinishEvent,
  ProviderStreamEvent,
  ReasoningEvent,
  StartEvent,
  StreamEvent,
  TextEvent,
  ToolCallDeltaEvent,
} from './stream-event.js'
export type { ConfiguredTarget, Provider, ProviderContext } from './provider.js'
export { replayableState, stateOrigin } from './provider-state.js'
export type { StateOriginParts } from './provider-state.js'
export { nextReady } from './next-ready.js'
export type { OnAbort, ReadyIterator } from './next-ready.js'
export type { Target, TargetObject } from './target.js'
export { ConfigError, errorKinds, isUnderstudyError, UnderstudyError } from './errors.js'
export type {
  Attempt,
  AttemptError,
  ErrorKind,
  PartialOutput,
  UnderstudyErrorInit,
  UnderstudyErrorJSON,
} from './errors.js'
export { toUnderstudyError } from './to-understudy-error.js'
export type { ErrorOrigin } from './to-understudy-error.js'
export { defaultPolicy } from './policy.js'
export type { KindRule, Policy, PolicyKind, PolicyOverrides } from './policy.js'
export { systemClock } from './clock.js'
export type { Clock } from './clock.js'
export { defaults } from './defaults.js'
export type { Defaults } from './defaults.js'
export { createMemoryHealthStore } from './memory-health-store.js'
export type { MemoryHealthStoreOptions } from './memory-health-store.js'
export type { Awaitable, HealthRecord, HealthStore, HealthThresholds } from './health-store.js'
export type { FallbackEvent, HookName, Hooks, RetryEvent } from './hooks.js'
export { callOptionsSchema, clientOptionsSchema, targetSchema } from './options-schema.js'
export { parseConfig } from './parse-config.js'
export { requestSchema } from './request-schema.js'
export { redactSecrets } from './redact.js'
export { isSecretHeader } from './secret-header.js'
