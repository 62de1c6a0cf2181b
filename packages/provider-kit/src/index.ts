/** @module What every HTTP provider of Understudy needs: `defineProvider`, its factory's option checks, an undici transport, SSE reading, HTTP errors to kinds, redaction. */
export { defineProvider } from './define-provider.js'
export type { DefineProviderOptions } from './define-provider.js'
export {
  checkHttpURL,
  checkProviderKey,
  checkProviderOptions,
  httpURLSchema,
  providerOptionsShape,
} from './check-provider-options.js'
export type {
  KeySource,
  ProviderKeyCheck,
  ProviderOptionsShape,
} from './check-provider-options.js'
export type {
  AttemptTarget,
  BuildRequestOptions,
  ErrorContext,
  ErrorDetails,
  HttpRequestSpec,
  ProviderSpec,
  ResponseInfo,
  SseMessage,
  StreamParser,
} from './provider-spec.js'
export { sendRequest } from './send-request.js'
export type {
  AbortEmitter,
  FetchFunction,
  HttpResponse,
  SendRequestOptions,
  Transport,
} from './send-request.js'
export { readSse } from './read-sse.js'
export type { ReadSseOptions } from './sse-decoder.js'
export { errorFromResponse, readRequestId } from './http-error.js'
export { kindFromStatus } from './status-kind.js'
export { parseDuration, parseRetryAfter } from './parse-retry-after.js'
export type { HeaderReader } from './parse-retry-after.js'
export type { ErrorResponse } from './http-error.js'
export { redactHeaders, redactURL } from './redact.js'
export { sniffImageType, toBase64 } from './image-bytes.js'
export { readEnvironment, readEnvironmentURL } from './read-environment.js'
