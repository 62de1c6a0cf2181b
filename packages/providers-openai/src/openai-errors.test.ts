import { fc, test } from '@fast-check/vitest'
import { type ErrorKind, isUnderstudyError } from '@understudy/core'
import { kindFromStatus } from '@understudy/provider-kit'
import { describe, expect, it } from 'vitest'
import { createOpenAIInBandError, isOpenAIErrorBody, readOpenAIError } from './openai-errors.js'
import { readRecordedJson, recordedBodies, recordedStatus } from './test-support/recorded.js'

/** The kind each recorded error body must get, with the wait its message asks for. */
const recordedErrors: Readonly<Record<string, { kind: ErrorKind; retryAfterMs?: number }>> = {
  'openai/error-400-context-length-exceeded-128k.json': { kind: 'context_window' },
  'openai/error-400-context-length-exceeded.json': { kind: 'context_window' },
  'openai/error-400-unsupported-parameter.json': { kind: 'invalid_request' },
  'openai/error-400-unsupported-value.json': { kind: 'invalid_request' },
  'openai/error-401-invalid-api-key.json': { kind: 'auth' },
  'openai/error-404-model-not-found.json': { kind: 'not_found' },
  'openai/error-429-insufficient-quota.json': { kind: 'quota' },
  'openai/error-429-rate-limit-exceeded-tokens.json': { kind: 'rate_limit' },
  'openai/error-500-server-error.json': { kind: 'server' },
  'openai/error-503-model-overloaded.json': { kind: 'overloaded' },
  'azure/error-400-content-filter-violence.json': { kind: 'content_policy' },
  'azure/error-400-content-filter.json': { kind: 'content_policy' },
  'azure/error-401-invalid-key.json': { kind: 'auth' },
  'azure/error-404-deployment-not-found.json': { kind: 'not_found' },
  'azure/error-429-rate-limit-short.json': { kind: 'rate_limit', retryAfterMs: 50_000 },
  'azure/error-429-token-rate-limit.json': { kind: 'rate_limit', retryAfterMs: 86_400_000 },
  'other/deepseek-400-context-length.json': { kind: 'context_window' },
  'other/groq-400-context-length.json': { kind: 'context_window' },
  'other/groq-400-tool-use-failed.json': { kind: 'invalid_request' },
  'other/groq-404-model-not-found.json': { kind: 'not_found' },
  'other/mistral-400-error-envelope.json': { kind: 'invalid_request' },
  'other/openrouter-400-context-length.json': { kind: 'context_window' },
  'other/openrouter-429-provider-rate-limited.json': { kind: 'rate_limit' },
  'other/vllm-400-context-length.json': { kind: 'context_window' },
}

/** The provider's own message in a recorded body: `error.message`, or the top-level one (vLLM, Mistral). */
function messageIn(body: unknown): unknown {
  const record = body as { error?: { message?: unknown }; message?: unknown }
  return record.error?.message ?? record.message
}

/** Error bodies that name no kind: no known code, no telling text, no status of their own. */
const plainBodies: readonly unknown[] = [
  { error: { message: 'Something.' } },
  { error: { message: 'Something.', type: 'server_error' } },
  { error: { message: 'Something.', type: 'invalid_request_error' } },
  { object: 'error', message: 'Something.' },
  '<html>Bad gateway</html>',
  undefined,
]

describe('readOpenAIError', () => {
  it('has an expected kind for every recorded error body', () => {
    const errorFiles = recordedBodies().filter(
      (file) => file.endsWith('.json') && recordedStatus(file) >= 400,
    )
    expect(errorFiles.sort()).toEqual(Object.keys(recordedErrors).sort())
  })

  it.each(Object.entries(recordedErrors))('classifies %s as %o', (file, expected) => {
    const body = readRecordedJson(file)
    const details = readOpenAIError(recordedStatus(file), body)
    expect(details.kind).toBe(expected.kind)
    expect(details.message).toBe(messageIn(body))
    expect(details.retryAfterMs).toBe(expected.retryAfterMs)
  })

  it('tells an exhausted quota from a rate limit on the same 429 by the code', () => {
    const body = (code: string) => ({ error: { message: 'm', type: code, param: null, code } })
    expect(readOpenAIError(429, body('insufficient_quota')).kind).toBe('quota')
    expect(readOpenAIError(429, body('rate_limit_exceeded')).kind).toBe('rate_limit')
  })

  it('trusts the code over message text that reads like another kind', () => {
    const body = {
      error: { message: 'Please reduce the length of the messages.', code: 'rate_limit_exceeded' },
    }
    expect(readOpenAIError(429, body).kind).toBe('rate_limit')
  })

  it("reads Azure's innererror code", () => {
    const body = {
      error: { code: 'BadRequest', innererror: { code: 'ResponsibleAIPolicyViolation' } },
    }
    expect(readOpenAIError(400, body).kind).toBe('content_policy')
  })

  it('reads a context-window message OpenRouter relays in metadata.raw', () => {
    const raw = JSON.stringify({ message: "This model's maximum context length is 8192 tokens." })
    const body = { error: { code: 400, message: 'Provider returned error', metadata: { raw } } }
    expect(readOpenAIError(400, body).kind).toBe('context_window')
  })

  it.each([
    [400, 'invalid_request'],
    [401, 'auth'],
    [402, 'quota'],
    [403, 'auth'],
    [404, 'not_found'],
    [422, 'invalid_request'],
    [429, 'rate_limit'],
    [500, 'server'],
    [502, 'server'],
    [503, 'overloaded'],
    [504, 'server'],
    [529, 'overloaded'],
  ] as const)(
    'falls back to the status for a body that names nothing (%i → %s)',
    (status, kind) => {
      expect(readOpenAIError(status, { error: { message: 'Something.' } }).kind).toBe(kind)
      expect(readOpenAIError(status, '<html>Bad gateway</html>')).toEqual({ kind })
    },
  )

  test.prop([fc.integer({ min: 400, max: 599 }), fc.constantFrom(...plainBodies)])(
    'gives a status the kind of provider-kit’s one table when the body names nothing',
    (status, body) => {
      expect(readOpenAIError(status, body).kind).toBe(kindFromStatus(status))
    },
  )

  it('reads a 402 as quota, as provider-kit does, over HTTP and in a 200 (OpenRouter’s credits)', () => {
    const body = { error: { code: 402, message: 'Payment required.' } }
    expect(readOpenAIError(402, body).kind).toBe('quota')
    expect(readOpenAIError(200, body).kind).toBe('quota')
    expect(createOpenAIInBandError(body).kind).toBe('quota')
    expect(kindFromStatus(402)).toBe('quota')
  })

  it('lets the status win over the broad type, which decides only an in-band error', () => {
    const body = { error: { type: 'invalid_request_error', message: 'busy' } }
    expect(readOpenAIError(409, body).kind).toBe('server')
    expect(readOpenAIError(200, body).kind).toBe('invalid_request')
  })

  it('leaves the kind out when neither body nor status decides it', () => {
    expect(readOpenAIError(200, { error: { message: 'teapot' } })).toEqual({ message: 'teapot' })
    expect(readOpenAIError(200, undefined)).toEqual({})
  })

  it('reads a wait in hours, minutes, seconds or ms from a rate-limit message only', () => {
    const body = (message: string) => ({ error: { message, code: 'rate_limit_exceeded' } })
    expect(readOpenAIError(429, body('Please try again in 1.5s.')).retryAfterMs).toBe(1500)
    expect(readOpenAIError(429, body('Please try again in 120ms.')).retryAfterMs).toBe(120)
    expect(readOpenAIError(429, body('Please try again in 6m0s.')).retryAfterMs).toBe(360_000)
    expect(readOpenAIError(429, body('Please try again in 1h2m3.5s.')).retryAfterMs).toBe(3_723_500)
    expect(readOpenAIError(429, body('Please try again later.')).retryAfterMs).toBeUndefined()
    expect(readOpenAIError(400, { error: { message: 'Try again in 5 seconds.' } })).toEqual({
      kind: 'invalid_request',
      message: 'Try again in 5 seconds.',
    })
  })

  it('cuts a very long message', () => {
    const details = readOpenAIError(500, { error: { message: 'x'.repeat(5000) } })
    expect(details.message?.length).toBe(1001)
  })

  it('reads the status a 200 body names for an in-band error', () => {
    expect(readOpenAIError(200, { error: { code: 429, message: 'slow down' } }).kind).toBe(
      'rate_limit',
    )
    expect(
      readOpenAIError(200, { error: { status_code: 400, code: 'tool_use_failed' } }).kind,
    ).toBe('invalid_request')
    expect(readOpenAIError(200, { error: { type: 'server_error', message: 'oops' } }).kind).toBe(
      'server',
    )
  })
})

describe('isOpenAIErrorBody', () => {
  it('tells an error body from a chunk or completion', () => {
    expect(isOpenAIErrorBody({ error: { message: 'x' } })).toBe(true)
    expect(isOpenAIErrorBody({ error: 'x' })).toBe(true)
    expect(isOpenAIErrorBody({ choices: [], error: null })).toBe(false)
    expect(isOpenAIErrorBody({ choices: [] })).toBe(false)
    expect(isOpenAIErrorBody('error')).toBe(false)
  })
})

describe('createOpenAIInBandError', () => {
  it('is a typed error of the kind the frame names, with its message', () => {
    const error = createOpenAIInBandError({ error: { code: 'insufficient_quota', message: 'pay' } })
    expect(isUnderstudyError(error, 'quota')).toBe(true)
    expect(error.message).toContain('pay')
  })

  it('is kind server when the frame names nothing', () => {
    expect(createOpenAIInBandError({ error: {} }).kind).toBe('server')
  })
})
