import { describe, it } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

/**
 * Everything `@understudy/provider-kit` publishes: `defineProvider` and its
 * spec types; the checks every provider factory runs on its options (a
 * shared zod shape, base URLs, a key that can be found); and the building
 * blocks its README names for a provider that needs them one by one. The
 * transports, the SSE decoder and the redaction helpers behind `redactURL`
 * stay inside.
 */
const publicAPI = [
  'checkHttpURL',
  'checkProviderKey',
  'checkProviderOptions',
  'defineProvider',
  'errorFromResponse',
  'httpURLSchema',
  'kindFromStatus',
  'parseDuration',
  'parseRetryAfter',
  'providerOptionsShape',
  'readEnvironment',
  'readEnvironmentURL',
  'readRequestId',
  'readSse',
  'redactHeaders',
  'redactURL',
  'sendRequest',
  'sniffImageType',
  'toBase64',
  'type AbortEmitter',
  'type DefineProviderOptions',
  'type AttemptTarget',
  'type BuildRequestOptions',
  'type ErrorContext',
  'type ErrorDetails',
  'type ErrorResponse',
  'type FetchFunction',
  'type HeaderReader',
  'type HttpRequestSpec',
  'type HttpResponse',
  'type KeySource',
  'type ProviderKeyCheck',
  'type ProviderOptionsShape',
  'type ProviderSpec',
  'type ReadSseOptions',
  'type ResponseInfo',
  'type SendRequestOptions',
  'type SseMessage',
  'type StreamParser',
  'type Transport',
]

describe('@understudy/provider-kit', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})
