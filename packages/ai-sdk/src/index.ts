/** @module Understudy chains as Vercel AI SDK models (`understudyModel`), and AI SDK models as Understudy providers (`fromAISDK`). */
export { understudyModel } from './understudy-model.js'
export type { UnderstudyModelOptions } from './understudy-model.js'
export type { TraceAttempt, UnderstudyTrace } from './understudy-trace.js'
export type { UnderstudyErrorData } from './to-api-call-error.js'
export { fromAISDK } from './from-aisdk.js'
export type { AISDKLanguageModel, AISDKProvider, FromAISDKOptions } from './from-aisdk.js'
