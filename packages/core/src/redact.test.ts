import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { redacted, redactSecrets } from './redact.js'
import { secretCharacters } from './test-support/secret-characters.js'

const secret = fc.string({
  unit: fc.constantFrom(...secretCharacters),
  minLength: 4,
  maxLength: 40,
})

/** Distinct secrets, and a text holding each at least once among random text. */
const secretsInText = fc.uniqueArray(secret, { minLength: 1, maxLength: 4 }).chain((secrets) =>
  fc
    .array(fc.oneof(fc.string(), fc.constantFrom(...secrets)), { maxLength: 12 })
    .chain((parts) =>
      fc.shuffledSubarray([...parts, ...secrets], { minLength: parts.length + secrets.length }),
    )
    .map((parts) => ({ secrets, text: parts.join('') })),
)

describe('redactSecrets', () => {
  it('replaces every occurrence of a secret', () => {
    const text = 'key sk-abc123 rejected; retry with sk-abc123?key=sk-abc123'
    expect(redactSecrets(text, ['sk-abc123'])).toBe(
      'key [redacted] rejected; retry with [redacted]?key=[redacted]',
    )
  })

  it('replaces each of several secrets', () => {
    const text = 'Authorization: Bearer sk-one, x-api-key: sk-two'
    expect(redactSecrets(text, ['sk-one', 'sk-two'])).toBe(
      `Authorization: Bearer ${redacted}, x-api-key: ${redacted}`,
    )
  })

  it('replaces a secret that holds regex and replacement characters as plain text', () => {
    expect(redactSecrets('a $&.*+? b $&.*+? c', ['$&.*+?'])).toBe('a [redacted] b [redacted] c')
    expect(redactSecrets('a.b.c', ['a*b*'])).toBe('a.b.c')
  })

  it('leaves secrets shorter than 4 characters alone, and redacts those of 4', () => {
    expect(redactSecrets('the key abc', ['abc'])).toBe('the key abc')
    expect(redactSecrets('the key abcd', ['abcd'])).toBe('the key [redacted]')
    expect(redactSecrets('any text', [''])).toBe('any text')
  })

  it('gives the text unchanged when it holds no secret', () => {
    expect(redactSecrets('nothing to hide', ['sk-secret'])).toBe('nothing to hide')
    expect(redactSecrets('nothing to hide', [])).toBe('nothing to hide')
  })

  it('redacts a secret that contains another', () => {
    const out = redactSecrets('sk-long-secret and sk-long', ['sk-long', 'sk-long-secret'])
    expect(out).not.toContain('sk-long')
  })

  test.prop([secretsInText])(
    'never gives back a secret embedded in random text',
    ({ secrets, text }) => {
      const out = redactSecrets(text, secrets)
      for (const secret of secrets) expect(out).not.toContain(secret)
    },
  )

  test.prop([secretsInText])(
    'finds nothing more to redact in its own output',
    ({ secrets, text }) => {
      const out = redactSecrets(text, secrets)
      expect(redactSecrets(out, secrets)).toBe(out)
    },
  )

  test.prop([fc.string(), fc.array(secret)])(
    'gives back a text that holds none of the secrets',
    (text, secrets) => {
      fc.pre(secrets.every((secret) => !text.includes(secret)))
      expect(redactSecrets(text, secrets)).toBe(text)
    },
  )
})
