import type { ErrorKind } from '@understudy/core'
import { errorFromResponse } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import { createAnthropicInBandError, readAnthropicError } from './anthropic-errors.js'
import {
  readRecordedHeaders,
  readRecordedJson,
  recordedBodies,
  recordedStatus,
} from './test-support/recorded.js'

/** The kind every recorded error body must be classified as. */
const recordedKinds: Readonly<Record<string, ErrorKind>> = {
  'anthropic/error-400-credit-balance-too-low.json': 'quota',
  'anthropic/error-400-invalid-request.json': 'invalid_request',
  'anthropic/error-400-prompt-too-long.json': 'context_window',
  'anthropic/error-401-authentication.json': 'auth',
  'anthropic/error-404-not-found.json': 'not_found',
  'anthropic/error-413-request-too-large.json': 'context_window',
  'anthropic/error-429-rate-limit.json': 'rate_limit',
  'anthropic/error-529-overloaded.json': 'overloaded',
}

/** The recorded 429 headers of the response beside a body (the 2025 dump goes with the 2025 body). */
const recordedHeaders: Readonly<Record<string, string>> = {
  'anthropic/error-429-rate-limit.json': 'anthropic/error-429-rate-limit.headers.json',
  'anthropic/error-404-not-found.json': 'anthropic/error-404-not-found.headers.json',
  'anthropic/error-400-invalid-request.json': 'anthropic/error-400-invalid-request.headers.json',
}

describe('readAnthropicError on the recorded bodies', () => {
  const errors = recordedBodies().filter((file) => file.includes('/error-'))

  it('has a kind written down for every recorded error body', () => {
    expect(errors.slice().sort()).toEqual(Object.keys(recordedKinds).sort())
  })

  it.each(errors)('classifies %s', (file) => {
    const status = recordedStatus(file)
    const headersFile = recordedHeaders[file]
    const headers = headersFile === undefined ? {} : readRecordedHeaders(headersFile)
    const error = errorFromResponse({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      status,
      headers,
      body: readRecordedJson(file),
      readError: readAnthropicError,
      now: Date.parse('2025-06-02T15:14:30Z'),
      secrets: [],
    })
    expect(error.kind).toBe(recordedKinds[file])
    expect(error.status).toBe(status)
    expect(error.message).not.toMatch(/no message/)
  })

  it('waits as the recorded retry-after says, over the ratelimit reset headers', () => {
    const error = errorFromResponse({
      provider: 'anthropic',
      model: 'm',
      status: 429,
      headers: readRecordedHeaders('anthropic/error-429-rate-limit.headers.json'),
      body: readRecordedJson('anthropic/error-429-rate-limit.json'),
      readError: readAnthropicError,
      now: Date.parse('2025-06-02T15:14:30Z'),
      secrets: [],
    })
    expect(error.retryAfterMs).toBe(16_000)
  })

  it('waits until the exhausted limit resets when no retry-after came (the 2024 dump)', () => {
    const headers = readRecordedHeaders('anthropic/error-429-rate-limit-2024.headers.json')
    const details = readAnthropicError(
      429,
      readRecordedJson('anthropic/error-429-rate-limit.json'),
      {
        headers,
        now: Date.parse('Tue, 26 Mar 2024 19:59:59 GMT'),
      },
    )
    expect(details).toMatchObject({ kind: 'rate_limit', retryAfterMs: 1000 })
  })
})

describe('readAnthropicError', () => {
  it.each([
    [503, { type: 'error', error: { type: 'api_error', message: 'x' } }, 'overloaded'],
    [500, { type: 'error', error: { type: 'api_error', message: 'x' } }, 'server'],
    [400, { type: 'error', error: { type: 'overloaded_error', message: 'x' } }, 'overloaded'],
    [403, { type: 'error', error: { type: 'permission_error', message: 'x' } }, 'auth'],
    [402, { type: 'error', error: { type: 'billing_error', message: 'x' } }, 'quota'],
    [
      400,
      {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000',
        },
      },
      'context_window',
    ],
    [502, '<html>bad gateway</html>', 'server'],
  ] as const)('reads a %i with %j as %s', (status, body, kind) => {
    expect(readAnthropicError(status, body).kind).toBe(kind)
  })

  it('takes the latest reset among the exhausted limits only', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    const details = readAnthropicError(
      429,
      { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
      {
        now,
        headers: {
          'anthropic-ratelimit-input-tokens-remaining': '0',
          'anthropic-ratelimit-input-tokens-reset': '2026-01-01T00:00:05Z',
          'anthropic-ratelimit-output-tokens-remaining': '0',
          'anthropic-ratelimit-output-tokens-reset': '2026-01-01T00:00:09Z',
          'anthropic-ratelimit-requests-remaining': '10',
          'anthropic-ratelimit-requests-reset': '2026-01-01T00:01:00Z',
        },
      },
    )
    expect(details.retryAfterMs).toBe(9_000)
  })

  it('classifies an in-band api_error as server and an unknown one as server', () => {
    expect(createAnthropicInBandError({ type: 'error', error: { type: 'api_error' } }).kind).toBe(
      'server',
    )
    expect(createAnthropicInBandError({ type: 'error', error: { type: 'new_error' } }).kind).toBe(
      'server',
    )
    expect(
      createAnthropicInBandError({
        type: 'error',
        error: { type: 'rate_limit_error', message: 'x' },
      }).kind,
    ).toBe('rate_limit')
  })
})
