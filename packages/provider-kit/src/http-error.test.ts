import { readdir, readFile } from 'node:fs/promises'
import { fc, test } from '@fast-check/vitest'
import type { ErrorKind } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { type ErrorResponse, errorFromResponse, readRequestId } from './http-error.js'
import { parseDuration } from './parse-retry-after.js'
import type { ErrorDetails } from './provider-spec.js'
import { kindFromStatus } from './status-kind.js'

const fixtures = new URL('../../../fixtures/', import.meta.url)
const readJson = async (path: string): Promise<unknown> =>
  JSON.parse(await readFile(new URL(path, fixtures), 'utf8'))

/** Every recorded error body, with the status its name carries (`error-429-…`, `groq-404-…`). */
async function recordedErrors(): Promise<{ path: string; status: number }[]> {
  const out: { path: string; status: number }[] = []
  for (const folder of ['openai', 'azure', 'anthropic', 'gemini', 'other']) {
    for (const name of await readdir(new URL(`${folder}/`, fixtures))) {
      const match = /-(\d{3})-/.exec(name)
      if (match === null || !name.endsWith('.json') || name.includes('headers')) continue
      out.push({ path: `${folder}/${name}`, status: Number(match[1]) })
    }
  }
  return out
}
const errors = await recordedErrors()

const base = {
  provider: 'acme',
  model: 'large-1',
  headers: {},
  now: Date.parse('Mon, 21 Apr 2025 19:13:46 GMT'),
  secrets: [],
} as const

/** A small OpenAI/Gemini-style `readError`, as a dialect would write one, for these tests. */
function readError(_status: number, body: unknown): ErrorDetails {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error
  if (typeof error !== 'object' || error === null) return {}
  const code = error.code ?? error.type
  const kind: ErrorKind | undefined =
    code === 'insufficient_quota'
      ? 'quota'
      : code === 'context_length_exceeded'
        ? 'context_window'
        : code === 'content_filter'
          ? 'content_policy'
          : undefined
  const retryInfo = Array.isArray(error.details)
    ? error.details.find((detail: { retryDelay?: unknown }) => detail.retryDelay !== undefined)
    : undefined
  const retryAfterMs = parseDuration(retryInfo?.retryDelay)
  return {
    ...(kind !== undefined && { kind }),
    ...(typeof error.message === 'string' && { message: error.message }),
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  }
}

describe('errorFromResponse', () => {
  it.each(errors)(
    'maps the recorded $path to the kind of its status $status, with its message',
    async ({ path, status }) => {
      const body = await readJson(path)
      const error = errorFromResponse({ ...base, status, body })
      expect(error.kind).toBe(kindFromStatus(status))
      expect(error.status).toBe(status)
      expect(error.provider).toBe('acme')
      expect(error.model).toBe('large-1')
      expect(error.message).toMatch(new RegExp(`^acme/large-1 ${status}: .+`))
      expect(error.message.length).toBeLessThanOrEqual(`acme/large-1 ${status}: `.length + 300)
      expect(error.message).not.toContain('no message')
    },
  )

  it.each([
    ['openai/error-429-insufficient-quota.json', 429, 'quota'],
    ['openai/error-400-context-length-exceeded.json', 400, 'context_window'],
    ['other/groq-400-context-length.json', 400, 'context_window'],
    ['azure/error-400-content-filter.json', 400, 'content_policy'],
    ['openai/error-429-rate-limit-exceeded-tokens.json', 429, 'rate_limit'],
    ['openai/error-404-model-not-found.json', 404, 'not_found'],
  ] as const)(
    'takes the kind of %s from readError over its status %i: %s',
    async (path, status, kind) => {
      const error = errorFromResponse({ ...base, status, body: await readJson(path), readError })
      expect(error.kind).toBe(kind)
      expect(error.status).toBe(status)
    },
  )

  it('reads Gemini’s RetryInfo through readError when no header says how long to wait', async () => {
    const body = await readJson('gemini/error-429-resource-exhausted-retryinfo.json')
    const error = errorFromResponse({ ...base, status: 429, body, readError })
    expect(error.kind).toBe('rate_limit')
    expect(error.retryAfterMs).toBe(36_000)
  })

  it('hands readError the headers and the time, for a wait only a vendor’s headers tell', () => {
    const seen: unknown[] = []
    const error = errorFromResponse({
      ...base,
      status: 429,
      headers: { 'x-vendor-reset': '5' },
      body: {},
      now: 1_000,
      readError: (_status, _body, response) => {
        seen.push(response)
        return { retryAfterMs: Number(response.headers['x-vendor-reset']) * 1000 }
      },
    })
    expect(seen).toEqual([{ headers: { 'x-vendor-reset': '5' }, now: 1_000 }])
    expect(error.retryAfterMs).toBe(5000)
  })

  it('prefers a Retry-After header over the body’s wait', async () => {
    const body = await readJson('gemini/error-429-resource-exhausted-short.json')
    const error = errorFromResponse({
      ...base,
      status: 429,
      headers: { 'retry-after': '3' },
      body,
      readError,
    })
    expect(error.retryAfterMs).toBe(3000)
  })

  it('reads the recorded Anthropic 429 headers: retry-after 16 s', async () => {
    const headers = (await readJson('anthropic/error-429-rate-limit.headers.json')) as Record<
      string,
      string
    >
    const body = await readJson('anthropic/error-429-rate-limit.json')
    const error = errorFromResponse({ ...base, status: 429, headers, body })
    expect(error.kind).toBe('rate_limit')
    expect(error.retryAfterMs).toBe(16_000)
  })

  it.each([
    ['anthropic/error-429-rate-limit-2024.headers.json', 'req_01T5fCVnYdf9X5ZW6KayReBK'],
    ['azure/error-429.headers.json', '3d37de60-f6c3-4ced-a637-92bc9d16d8b5'],
    [
      'azure/chat-completion-with-content-filter-results.headers.json',
      '1d93fae1-cb8e-4789-8fb6-d26577a3cb77',
    ],
    ['openai/error-429.headers.json', '[redacted]'],
    ['gemini/error-404-not-found.headers.json', undefined],
  ])('reads the request id of the recorded %s', async (path, requestId) => {
    const headers = (await readJson(path)) as Record<string, string | string[]>
    expect(readRequestId(headers)).toBe(requestId)
    expect(errorFromResponse({ ...base, status: 429, headers, body: '' }).requestId).toBe(requestId)
  })

  it.each([
    [{ 'retry-after': '2' }, 2000],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after-ms': '750' }, 750],
    [{ 'retry-after-ms': '750', 'retry-after': '2' }, 750],
    [{ 'retry-after': 'Mon, 21 Apr 2025 19:14:16 GMT' }, 30_000],
    [{ 'retry-after': 'Mon, 21 Apr 2025 19:00:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
  ])('reads %o as retryAfterMs %s', (headers, ms) => {
    const error = errorFromResponse({ ...base, status: 429, headers, body: '' })
    expect(error.retryAfterMs).toBe(ms)
  })

  it('falls back to the status table when readError throws', () => {
    const error = errorFromResponse({
      ...base,
      status: 503,
      body: { odd: true },
      readError: () => {
        throw new Error('cannot read this')
      },
    })
    expect(error.kind).toBe('overloaded')
  })

  it('names an HTML error page instead of quoting it, and says when there is no message', () => {
    const html = errorFromResponse({
      ...base,
      status: 502,
      body: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>',
    })
    expect(html.message).toBe('acme/large-1 502: an HTML page instead of an error body')
    expect(errorFromResponse({ ...base, status: 500, body: '' }).message).toBe(
      'acme/large-1 500: no message',
    )
  })

  it('cuts a long provider message to 300 characters', () => {
    const error = errorFromResponse({
      ...base,
      status: 400,
      body: { error: { message: 'x'.repeat(5000) } },
    })
    expect(error.message).toBe(`acme/large-1 400: ${'x'.repeat(299)}…`)
  })

  it('redacts a ?key= the upstream quotes in its message', () => {
    const error = errorFromResponse({
      ...base,
      status: 400,
      body: { error: { message: 'Bad URL /v1beta/models/x?key=AIzaSyD-secret-99&alt=sse' } },
    })
    expect(error.message).toContain('key=[redacted]&alt=sse')
    expect(error.message).not.toContain('AIzaSyD')
  })

  const secretText = fc.string({
    unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'),
    minLength: 8,
    maxLength: 60,
  })

  test.prop([
    secretText,
    fc.string({ maxLength: 400 }),
    fc.string({ maxLength: 400 }),
    fc.constantFrom(400, 401, 403, 404, 429, 500, 503),
    fc.boolean(),
  ])(
    'never shows a secret the upstream echoes back, wherever it sits in the message',
    (secret, before, after, status, asText) => {
      const said = `${before}${secret}${after}`
      const body = asText ? said : { error: { message: said } }
      const response: ErrorResponse = { ...base, status, body, secrets: [secret], readError }
      const error = errorFromResponse(response)
      const shown = `${error.message}\n${JSON.stringify(error)}\n${error.stack ?? ''}`
      expect(shown).not.toContain(secret)
    },
  )

  it('never writes Error.stackTraceLimit, a global of the user’s process', () => {
    const writes: unknown[] = []
    const own = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')
    // An accessor sees every write; V8 then reads no limit and captures no stack, which is fine here.
    Object.defineProperty(Error, 'stackTraceLimit', {
      configurable: true,
      get: () => own?.value,
      set: (value: unknown) => writes.push(value),
    })
    try {
      errorFromResponse({ ...base, status: 429, body: { error: { message: 'slow' } } })
    } finally {
      if (own !== undefined) Object.defineProperty(Error, 'stackTraceLimit', own)
    }
    expect(writes).toEqual([])
  })

  it('keeps the stack frames of where the error was built', () => {
    const error = errorFromResponse({ ...base, status: 429, body: { error: { message: 'slow' } } })
    expect(error.stack).toMatch(/\n\s+at /)
  })

  test.prop([fc.integer({ min: 100, max: 999 }), fc.jsonValue()])(
    'always returns a typed error with the status, whatever the status and body',
    (status, body) => {
      const error = errorFromResponse({ ...base, status, body, readError })
      expect(error.status).toBe(status)
      expect(error.message.startsWith(`acme/large-1 ${status}: `)).toBe(true)
    },
  )
})
