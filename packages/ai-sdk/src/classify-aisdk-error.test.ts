import { APICallError, LoadAPIKeyError, UnsupportedFunctionalityError } from '@ai-sdk/provider'
import { describe, expect, it } from 'vitest'
import { classifyAISDKError } from './classify-aisdk-error.js'

const origin = { provider: 'vendor', model: 'm' }
const now = Date.parse('2026-01-01T00:00:00Z')

function apiError(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  return new APICallError({
    message: 'Bad things',
    url: 'https://vendor.test/v1/chat?key=secret-in-url',
    requestBodyValues: { messages: [] },
    statusCode,
    responseHeaders: headers,
    responseBody: typeof body === 'string' ? body : JSON.stringify(body),
    isRetryable: statusCode >= 500,
  })
}

describe('classifyAISDKError', () => {
  it('reads the kind from the status, then from the body’s code', () => {
    expect(classifyAISDKError(apiError(401, {}), origin, now).kind).toBe('auth')
    expect(classifyAISDKError(apiError(503, ''), origin, now).kind).toBe('overloaded')
    expect(classifyAISDKError(apiError(418, 'teapot'), origin, now).kind).toBe('invalid_request')
    expect(
      classifyAISDKError(apiError(429, { error: { code: 'insufficient_quota' } }), origin, now)
        .kind,
    ).toBe('quota')
    expect(
      classifyAISDKError(
        apiError(400, { type: 'error', error: { type: 'overloaded_error', message: 'busy' } }),
        origin,
        now,
      ).kind,
    ).toBe('overloaded')
    expect(
      classifyAISDKError(apiError(400, { error: { status: 'RESOURCE_EXHAUSTED' } }), origin, now)
        .kind,
    ).toBe('rate_limit')
  })

  it('reads Retry-After in seconds, as a date and in ms', () => {
    const wait = (headers: Record<string, string>) =>
      classifyAISDKError(apiError(429, {}, headers), origin, now).retryAfterMs
    expect(wait({ 'retry-after': '1.5' })).toBe(1_500)
    expect(wait({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' })).toBe(7_000)
    expect(wait({ 'retry-after-ms': '250' })).toBe(250)
    expect(wait({})).toBeUndefined()
  })

  it('never reads the message alone, and keeps the URL and request out of its own message', () => {
    const error = classifyAISDKError(
      new APICallError({
        message: 'context_length_exceeded',
        url: 'https://vendor.test/?key=secret-in-url',
        requestBodyValues: {},
        isRetryable: false,
      }),
      origin,
      now,
    )
    expect(error.kind).toBe('unknown')
    expect(JSON.stringify(error)).not.toContain('secret-in-url')
    expect(error.cause).toBeInstanceOf(APICallError)
  })

  it('maps the AI SDK’s other errors by class', () => {
    expect(classifyAISDKError(new LoadAPIKeyError({ message: 'no key' }), origin, now).kind).toBe(
      'auth',
    )
    expect(
      classifyAISDKError(new UnsupportedFunctionalityError({ functionality: 'pdf' }), origin, now)
        .kind,
    ).toBe('unsupported')
    expect(classifyAISDKError(new TypeError('boom'), origin, now)).toMatchObject({
      kind: 'unknown',
      provider: 'vendor',
      model: 'm',
    })
  })
})
