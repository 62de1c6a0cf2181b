import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { isSecretHeader } from '@understudy/core'
import { isSecretParam, redactHeaders, redactSecretParams, redactURL } from './redact.js'

const secretHeaders = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
] as const
const plainHeaders = [
  'content-type',
  'accept',
  'anthropic-version',
  'openai-organization',
  'x-ratelimit-remaining-tokens',
  'x-request-id',
  'user-agent',
] as const

/** A header name in any mix of upper and lower case. */
const anyCase = (name: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''))

const value = fc.string({ minLength: 1, maxLength: 40 })

/** A query parameter value, as it appears encoded in a URL. */
const queryValue = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~%'),
  minLength: 4,
  maxLength: 40,
})

const secretParams = [
  'key',
  'api_key',
  'apiKey',
  'x-goog-api-key',
  'access_token',
  'sig',
  'client_secret',
  'password',
  'code',
]
const plainParams = ['alt', 'api-version', 'model', 'max_tokens', 'stream', 'page', 'q']

describe('redactHeaders', () => {
  it('redacts the credential headers and keeps the others', () => {
    expect(
      redactHeaders({
        Authorization: 'Bearer sk-1',
        'x-api-key': 'sk-ant-1',
        'api-key': 'azure-1',
        'X-Goog-Api-Key': 'AIza-1',
        Cookie: 'session=1',
        'proxy-authorization': 'Basic Zm9v',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      }),
    ).toEqual({
      Authorization: '[redacted]',
      'x-api-key': '[redacted]',
      'api-key': '[redacted]',
      'X-Goog-Api-Key': '[redacted]',
      Cookie: '[redacted]',
      'proxy-authorization': '[redacted]',
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    })
  })

  test.prop([
    fc.dictionary(fc.constantFrom(...secretHeaders).chain(anyCase), value),
    fc.dictionary(fc.constantFrom(...plainHeaders).chain(anyCase), value),
  ])(
    'hides every credential header value whatever its case, keeps every other, and writes nothing',
    (secrets, plain) => {
      const headers = Object.freeze({ ...plain, ...secrets })
      const out = redactHeaders(headers)
      expect(Object.keys(out)).toEqual(Object.keys(headers))
      for (const name of Object.keys(secrets)) expect(out[name]).toBe('[redacted]')
      for (const name of Object.keys(plain)) {
        if (!(name in secrets)) expect(out[name]).toBe(plain[name])
      }
      expect(redactHeaders(out)).toEqual(out)
    },
  )

  it('tells credential header names from counts', () => {
    const out = redactHeaders({
      'X-Auth-Token': 't-1',
      'x-apikey': 'k-1',
      'x-session-id': 's-1',
      'x-ratelimit-remaining-tokens': '9',
      'x-ratelimit-limit-requests': '10',
    })
    expect(out).toEqual({
      'X-Auth-Token': '[redacted]',
      'x-apikey': '[redacted]',
      'x-session-id': '[redacted]',
      'x-ratelimit-remaining-tokens': '9',
      'x-ratelimit-limit-requests': '10',
    })
  })

  test.prop([
    fc.dictionary(fc.string({ unit: fc.constantFrom(...'abkeyotnsciuh-_'), minLength: 1 }), value),
  ])(
    'hides exactly the headers core’s isSecretHeader names, as core’s own redaction does',
    (headers) => {
      const out = redactHeaders(headers)
      for (const name of Object.keys(headers)) {
        expect(out[name]).toBe(isSecretHeader(name) ? '[redacted]' : headers[name])
      }
    },
  )
})

describe('redactURL', () => {
  it('redacts Gemini’s ?key= and keeps the rest byte for byte', () => {
    expect(
      redactURL(
        'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=AIzaSyD-abc',
      ),
    ).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=[redacted]',
    )
  })

  it('redacts user info and leaves a URL without secrets as it was', () => {
    expect(redactURL('https://user:hunter2@proxy.example/v1?x=1#top')).toBe(
      'https://[redacted]@proxy.example/v1?x=1#top',
    )
    const plain =
      'https://example.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
    expect(redactURL(plain)).toBe(plain)
  })

  test.prop([
    fc.webUrl({ withQueryParameters: false, withFragments: true }),
    fc.array(fc.tuple(fc.constantFrom(...secretParams), queryValue), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.array(fc.tuple(fc.constantFrom(...plainParams), queryValue), { maxLength: 3 }),
  ])(
    'hides every secret query value, keeps every other, and is idempotent',
    (url, secrets, plain) => {
      const hashAt = url.indexOf('#')
      const head = hashAt === -1 ? url : url.slice(0, hashAt)
      const fragment = hashAt === -1 ? '' : url.slice(hashAt)
      const pairs = [...plain, ...secrets]
      const query = pairs.map(([name, v]) => `${name}=${v}`).join('&')
      const full = `${head}?${query}${fragment.replace(/=/g, '')}`
      const out = redactURL(full)
      // The whole expected text, not a search for the secret: a plain param may
      // carry the same value as a secret one, and must keep it.
      const expected = [
        ...plain.map(([name, v]) => `${name}=${v}`),
        ...secrets.map(([name]) => `${name}=[redacted]`),
      ].join('&')
      const redactedHead = head.replace(/^([a-z]+:\/\/)[^/?#@]*@/i, '$1[redacted]@')
      expect(out).toBe(`${redactedHead}?${expected}${fragment.replace(/=/g, '')}`)
      expect(redactURL(out)).toBe(out)
    },
  )

  test.prop([fc.string()])('never throws, even on text that is not a URL', (text) => {
    expect(typeof redactURL(text)).toBe('string')
  })
})

describe('isSecretParam', () => {
  it.each(secretParams)('takes %s for a secret', (name) => expect(isSecretParam(name)).toBe(true))
  it.each(plainParams)('takes %s for no secret', (name) => expect(isSecretParam(name)).toBe(false))
})

describe('redactSecretParams', () => {
  test.prop([fc.string({ maxLength: 50 }), queryValue, fc.string({ maxLength: 50 })])(
    'hides the value of key= wherever it sits in a text',
    (before, secret, after) => {
      const text = `${before} see https://host/path?key=${secret} ${after}`
      const out = redactSecretParams(text)
      expect(out).toContain('key=[redacted]')
      expect(redactSecretParams(out)).toBe(out)
    },
  )
})
