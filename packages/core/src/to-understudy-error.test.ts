import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { ConfigError, type ErrorKind, isUnderstudyError, UnderstudyError } from './errors.js'
import { toUnderstudyError } from './to-understudy-error.js'
import { secretCharacters } from './test-support/secret-characters.js'

const origin = Object.freeze({ provider: 'openai', model: 'gpt-4o' })
const secret = 'sk-live-0123456789abcdef'

/**
 * Every text an error shows: message, stack, JSON, and the same of each cause
 * down the chain. Of the error itself only the stack's header counts: its
 * frames are call sites in this code, not anything it was given.
 */
function everythingShown(error: unknown, depth = 0): string {
  if (depth > 10) return ''
  if (!(error instanceof Error))
    return typeof error === 'string' ? error : (JSON.stringify(error) ?? '')
  const stack = depth === 0 ? (error.stack ?? '').split('\n    at ')[0] : error.stack
  const own = `${error.message}\n${stack ?? ''}\n${JSON.stringify(error)}\n${String(error)}`
  return `${own}\n${everythingShown(error.cause, depth + 1)}`
}

describe('toUnderstudyError', () => {
  it('makes a plain Error kind unknown, with the origin and the error as cause', () => {
    const thrown = new Error('socket hang up')
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error).toBeInstanceOf(UnderstudyError)
    expect(error.kind).toBe('unknown')
    expect(error.provider).toBe('openai')
    expect(error.model).toBe('gpt-4o')
    expect(error.message).toBe('openai/gpt-4o failed: socket hang up')
    expect(error.cause).toBe(thrown)
    expect(error.attempts).toEqual([])
  })

  it('makes anything else thrown kind unknown, with it as cause', () => {
    for (const thrown of ['boom', 42, null, undefined, { code: 'E_WEIRD' }]) {
      const error = toUnderstudyError(thrown, origin, [])
      expect(error.kind).toBe('unknown')
      expect(error.message).toBe(`openai/gpt-4o failed: ${String(thrown)}`)
      expect(error.cause).toBe(thrown)
    }
  })

  it('gives back an UnderstudyError that names its target and holds no secret as it is', () => {
    const thrown = new UnderstudyError({
      kind: 'rate_limit',
      message: 'openai/gpt-4o: 429',
      provider: 'openai',
      model: 'gpt-4o',
      status: 429,
      retryAfterMs: 1_500,
      requestId: 'req_1',
    })
    expect(toUnderstudyError(thrown, origin, [secret])).toBe(thrown)
  })

  it('keeps the kind, status, retryAfterMs and requestId of an UnderstudyError, filling in its target', () => {
    const cause = new Error('upstream body')
    const thrown = new UnderstudyError({
      kind: 'overloaded',
      message: 'overloaded',
      status: 529,
      retryAfterMs: 3_000,
      requestId: 'req_2',
      cause,
    })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.kind).toBe('overloaded')
    expect(error.status).toBe(529)
    expect(error.retryAfterMs).toBe(3_000)
    expect(error.requestId).toBe('req_2')
    expect(error.provider).toBe('openai')
    expect(error.model).toBe('gpt-4o')
    expect(error.message).toBe('overloaded')
    expect(error.cause).toBe(cause)
  })

  it("keeps an UnderstudyError's own target over the origin", () => {
    const thrown = new UnderstudyError({
      kind: 'server',
      message: `bad key ${secret}`,
      provider: 'azure',
      model: 'gpt-4o-eu',
    })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.provider).toBe('azure')
    expect(error.model).toBe('gpt-4o-eu')
  })

  it('keeps the kind of an error made by a second copy of the package', () => {
    class ForeignError extends Error {
      readonly kind: ErrorKind = 'auth'
      readonly status = 401
    }
    Object.defineProperty(ForeignError.prototype, Symbol.for('understudy.error'), { value: true })
    const error = toUnderstudyError(new ForeignError(`invalid key ${secret}`), origin, [secret])
    expect(isUnderstudyError(error, 'auth')).toBe(true)
    expect(error.status).toBe(401)
    expect(error.message).toBe('invalid key [redacted]')
  })

  it('redacts a secret from the message of an UnderstudyError, keeping its fields', () => {
    const thrown = new UnderstudyError({
      kind: 'auth',
      message: `Incorrect API key provided: ${secret}`,
      provider: 'openai',
      model: 'gpt-4o',
      status: 401,
      retryAfterMs: 10,
    })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error).not.toBe(thrown)
    expect(error.message).toBe('Incorrect API key provided: [redacted]')
    expect(error.kind).toBe('auth')
    expect(error.status).toBe(401)
    expect(error.retryAfterMs).toBe(10)
    expect(everythingShown(error)).not.toContain(secret)
  })

  it('replaces a cause holding a secret with a redacted copy, message and stack', () => {
    const thrown = new TypeError(`fetch failed for https://api.example/v1?key=${secret}`)
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.message).toBe(
      'openai/gpt-4o failed: fetch failed for https://api.example/v1?key=[redacted]',
    )
    expect(error.cause).not.toBe(thrown)
    expect(error.cause).toBeInstanceOf(Error)
    const cause = error.cause as Error
    expect(cause.message).toBe('fetch failed for https://api.example/v1?key=[redacted]')
    expect(cause.name).toBe('TypeError')
    expect(cause.stack).toContain('[redacted]')
    expect(everythingShown(error)).not.toContain(secret)
    // The thrown error is read, never written.
    expect(thrown.message).toContain(secret)
  })

  it('replaces a cause whose stack alone holds a secret', () => {
    const thrown = new Error('request failed')
    thrown.stack = `Error: request failed\n    at send (https://api.example/v1?key=${secret})`
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.cause).not.toBe(thrown)
    expect((error.cause as Error).stack).toBe(
      'Error: request failed\n    at send (https://api.example/v1?key=[redacted])',
    )
  })

  it('replaces a cause whose own properties hold a secret', () => {
    const thrown = Object.assign(new Error('401'), {
      headers: { authorization: `Bearer ${secret}` },
    })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.cause).not.toBe(thrown)
    expect(everythingShown(error)).not.toContain(secret)
  })

  it('replaces a secret deep in a chain of causes', () => {
    const inner = new Error(`upstream echoed ${secret}`)
    const thrown = new UnderstudyError({
      kind: 'server',
      message: 'openai/gpt-4o: 500',
      provider: 'openai',
      model: 'gpt-4o',
      status: 500,
      cause: new Error('wrapped', { cause: inner }),
    })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.status).toBe(500)
    expect(everythingShown(error)).not.toContain(secret)
    expect(((error.cause as Error).cause as Error).message).toBe('upstream echoed [redacted]')
  })

  it('replaces a cause that is not an Error but holds a secret', () => {
    const thrown = { error: { message: `bad key ${secret}` } }
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.cause).toBeInstanceOf(Error)
    expect(everythingShown(error)).not.toContain(secret)
  })

  it('keeps a ConfigError as it is', () => {
    const thrown = new ConfigError({ path: 'fallbacks[0]', message: 'expected "provider/model"' })
    const error = toUnderstudyError(thrown, origin, [secret])
    expect(error.kind).toBe('config')
    expect(error.message).toBe('fallbacks[0]: expected "provider/model"')
  })
})

const randomSecret = fc.string({
  unit: fc.constantFrom(...secretCharacters),
  minLength: 4,
  maxLength: 40,
})

/** Random text holding `secrets`, each somewhere. */
const textWith = (secrets: readonly string[]): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof(fc.string(), fc.constantFrom(...secrets)), { maxLength: 8 })
    .chain((parts) =>
      fc.shuffledSubarray([...parts, ...secrets], { minLength: parts.length + secrets.length }),
    )
    .map((parts) => parts.join(''))

const secretsAndTexts = fc
  .uniqueArray(randomSecret, { minLength: 1, maxLength: 3 })
  .chain((secrets) =>
    fc.record({
      secrets: fc.constant(secrets),
      outer: textWith(secrets),
      inner: textWith(secrets),
    }),
  )

describe('toUnderstudyError, over random secrets', () => {
  test.prop([secretsAndTexts])(
    'never shows a secret embedded in what a provider threw',
    ({ secrets, outer, inner }) => {
      const thrown = Object.assign(new Error(outer, { cause: new Error(inner) }), { body: inner })
      const error = toUnderstudyError(thrown, origin, secrets)
      const shown = everythingShown(error)
      for (const secret of secrets) expect(shown).not.toContain(secret)
    },
  )

  test.prop([secretsAndTexts, fc.constantFrom<ErrorKind>('rate_limit', 'auth', 'server', 'quota')])(
    'never shows a secret embedded in an UnderstudyError, and keeps its kind',
    ({ secrets, outer, inner }, kind) => {
      const thrown = new UnderstudyError({
        kind,
        message: outer,
        status: 400,
        cause: new Error(inner),
      })
      const error = toUnderstudyError(thrown, origin, secrets)
      expect(error.kind).toBe(kind)
      expect(error.status).toBe(400)
      const shown = everythingShown(error)
      for (const secret of secrets) expect(shown).not.toContain(secret)
    },
  )
})
