import { type ErrorKind, isUnderstudyError } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { createGeminiInBandError, isGeminiErrorBody, readGeminiError } from './gemini-errors.js'
import { readRecordedJson, recordedBodies, recordedStatus } from './test-support/recorded.js'

/**
 * What each recorded error body must be classified as. A recorded file
 * missing here fails the first test, so a new recording gets a decision.
 */
const recordedErrors: Readonly<Record<string, { kind: ErrorKind; retryAfterMs?: number }>> = {
  'gemini/error-400-input-token-count.json': { kind: 'context_window' },
  'gemini/error-400-invalid-argument-penalty.json': { kind: 'invalid_request' },
  'gemini/error-403-permission-denied-leaked-key.json': { kind: 'auth' },
  'gemini/error-403-permission-denied-service-blocked.json': { kind: 'auth' },
  'gemini/error-403-permission-denied-unregistered-caller.json': { kind: 'auth' },
  'gemini/error-404-not-found.json': { kind: 'not_found' },
  // "check your plan and billing details" with only a Help link: no retry helps.
  'gemini/error-429-resource-exhausted-help.json': { kind: 'quota' },
  // A per-day free-tier quota (`GenerateRequestsPerDay…`): its 36 s RetryInfo is kept, but no retry within a call helps.
  'gemini/error-429-resource-exhausted-retryinfo.json': { kind: 'quota', retryAfterMs: 36_000 },
  // A per-minute quota (`GenerateRequestsPerMinute…`): a rate limit, retried after its delay.
  'gemini/error-429-resource-exhausted-short.json': { kind: 'rate_limit', retryAfterMs: 34_400 },
  'gemini/error-500-internal.json': { kind: 'server' },
  'gemini/error-503-unavailable.json': { kind: 'overloaded' },
}

describe('readGeminiError', () => {
  it('has an expected kind for every recorded error body', () => {
    const errors = recordedBodies().filter((file) => /\/error-/.test(file))
    expect(errors.sort()).toEqual(Object.keys(recordedErrors).sort())
  })

  it.each(Object.entries(recordedErrors))('classifies %s as %o', (file, expected) => {
    const body = readRecordedJson(file)
    const details = readGeminiError(recordedStatus(file), body)
    expect(details.kind).toBe(expected.kind)
    expect(details.retryAfterMs).toBe(expected.retryAfterMs)
    const message = Reflect.get(Reflect.get(body as object, 'error') as object, 'message')
    expect(details.message).toBe(message)
  })

  it('classifies a key Google calls not valid (400 INVALID_ARGUMENT, ErrorInfo API_KEY_INVALID) as auth', () => {
    // The shape Google answers a wrong key with; written here, not recorded in fixtures/.
    const body = {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ],
      },
    }
    expect(readGeminiError(400, body).kind).toBe('auth')
  })

  it.each([
    [504, 'DEADLINE_EXCEEDED', 'server'],
    [401, 'UNAUTHENTICATED', 'auth'],
    [503, 'UNAVAILABLE', 'overloaded'],
    [500, 'INTERNAL', 'server'],
    [404, 'NOT_FOUND', 'not_found'],
    [409, 'ABORTED', 'server'],
  ] as const)('reads %i %s as %s', (status, name, kind) => {
    expect(
      readGeminiError(status, { error: { code: status, message: 'x', status: name } }).kind,
    ).toBe(kind)
  })

  it('reads a 429 without error.status as a rate limit when it says when to retry', () => {
    const body = {
      error: {
        code: 429,
        message: 'slow down',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
      },
    }
    expect(readGeminiError(429, body)).toEqual({
      kind: 'rate_limit',
      message: 'slow down',
      retryAfterMs: 1_500,
    })
  })

  it('falls back to the status for a body that is not a Google error', () => {
    expect(readGeminiError(502, '<html>Bad Gateway</html>')).toEqual({ kind: 'server' })
    expect(readGeminiError(429, { message: 'no envelope' })).toEqual({ kind: 'rate_limit' })
    expect(readGeminiError(200, 'nothing')).toEqual({})
  })

  it('cuts a very long message', () => {
    const details = readGeminiError(400, {
      error: { code: 400, message: 'x'.repeat(5000), status: 'INVALID_ARGUMENT' },
    })
    expect(details.message?.length).toBe(1001)
  })
})

describe('createGeminiInBandError', () => {
  it('classifies an error event inside a 200 stream by the code it names', () => {
    const body = {
      error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' },
    }
    expect(isGeminiErrorBody(body)).toBe(true)
    expect(isGeminiErrorBody([body])).toBe(true)
    expect(isGeminiErrorBody({ candidates: [] })).toBe(false)
    const error = createGeminiInBandError(body)
    expect(isUnderstudyError(error, 'overloaded')).toBe(true)
    expect(error.message).toContain('The model is overloaded.')
  })

  it('makes an error that names nothing kind server', () => {
    expect(isUnderstudyError(createGeminiInBandError({ error: {} }), 'server')).toBe(true)
  })
})
