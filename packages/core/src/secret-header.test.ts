import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { isSecretHeader } from './secret-header.js'

/** Credential headers core's `collectSecrets` and provider-kit's `redactHeaders` both must hide. */
const secretHeaders = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-auth',
  'apikey',
  'x-apikey',
  'x_api_key',
  'x-client-secret',
  'x-amz-security-token',
  'x-amz-signature',
  'x-session-id',
  'sessionid',
  'x-csrf-token',
  'idempotency-key',
  'x-custom-cookie',
] as const

/** Headers that say something, not a credential, the rate-limit counts of OpenAI and Anthropic included. */
const plainHeaders = [
  'content-type',
  'accept',
  'user-agent',
  'anthropic-version',
  'anthropic-beta',
  'openai-organization',
  'openai-project',
  'x-request-id',
  'x-goog-api-client',
  'x-stainless-lang',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-reset-tokens',
  'x-ratelimit-limit-requests',
  'anthropic-ratelimit-input-tokens-remaining',
  'anthropic-ratelimit-tokens-reset',
] as const

/** A header name in any mix of upper and lower case. */
const anyCase = (name: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''))

/** A word of a header name that marks nothing by itself. */
const plainWord = fc.constantFrom('x', 'goog', 'amz', 'client', 'custom', 'my', 'team', 'v2')

describe('isSecretHeader', () => {
  it.each(secretHeaders)('names %s a credential header', (name) => {
    expect(isSecretHeader(name)).toBe(true)
  })

  it.each(plainHeaders)('names %s a plain header', (name) => {
    expect(isSecretHeader(name)).toBe(false)
  })

  test.prop([fc.constantFrom(...secretHeaders, ...plainHeaders).chain(anyCase)])(
    'ignores the case of the name',
    (name) => {
      expect(isSecretHeader(name)).toBe(isSecretHeader(name.toLowerCase()))
    },
  )

  test.prop([
    fc.array(plainWord, { maxLength: 3 }),
    fc.constantFrom('auth', 'key', 'token', 'secret', 'cookie', 'signature', 'session'),
    fc.array(plainWord, { maxLength: 3 }),
    fc.constantFrom('-', '_', '.'),
  ])(
    'names a credential any header with a credential word, wherever it stands',
    (before, word, after, separator) => {
      expect(isSecretHeader([...before, word, ...after].join(separator))).toBe(true)
    },
  )

  test.prop([fc.array(plainWord, { maxLength: 3 }), fc.array(plainWord, { maxLength: 3 })])(
    'does not name a credential a header whose only telling word is the count tokens',
    (before, after) => {
      expect(isSecretHeader([...before, 'ratelimit', 'tokens', ...after].join('-'))).toBe(false)
    },
  )

  test.prop([
    fc
      .array(
        fc.oneof(
          fc.constantFrom('-', '_', '.', ' '),
          fc.constantFrom('tokens', 'token', 'key', 'auth', 'x', 'api', 'session', 'id', 'cookies'),
          fc.stringMatching(/^[a-z0-9]{1,4}$/),
        ),
        { maxLength: 6 },
      )
      .map((parts) => parts.join('')),
  ])(
    'marks a name exactly when one of its words (not `tokens`) holds a credential mark',
    (name) => {
      const words = name.split(/[^a-z0-9]+/)
      const expected = words.some(
        (word) => word !== 'tokens' && /auth|key|token|secret|cookie|signature|session/.test(word),
      )
      expect(isSecretHeader(name)).toBe(expected)
    },
  )
})
