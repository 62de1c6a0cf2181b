import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type Attempt,
  ConfigError,
  type ErrorKind,
  errorKinds,
  isUnderstudyError,
  UnderstudyError,
} from './errors.js'

const attempt: Attempt = Object.freeze({
  target: 'openai/gpt-4o',
  provider: 'openai',
  model: 'gpt-4o',
  outcome: 'error',
  error: Object.freeze({
    kind: 'rate_limit',
    status: 429,
    retryAfterMs: 2_000,
    message: 'slow down',
  }),
  status: 429,
  retry: 0,
  durationMs: 12,
})

/** An error class from a second copy of the package: same registered brand, another class. */
class ForeignUnderstudyError extends Error {
  readonly kind: ErrorKind
  constructor(kind: ErrorKind) {
    super(`foreign ${kind}`)
    this.kind = kind
  }
}
Object.defineProperty(ForeignUnderstudyError.prototype, Symbol.for('understudy.error'), {
  value: true,
})

describe('UnderstudyError', () => {
  it('keeps every field it is built with', () => {
    const cause = new Error('upstream said no')
    const error = new UnderstudyError({
      kind: 'rate_limit',
      message: 'openai/gpt-4o was rate limited',
      provider: 'openai',
      model: 'gpt-4o',
      status: 429,
      retryAfterMs: 2_000,
      requestId: 'req_123',
      attempts: [attempt],
      cause,
    })
    expect(error.kind).toBe('rate_limit')
    expect(error.message).toBe('openai/gpt-4o was rate limited')
    expect(error.provider).toBe('openai')
    expect(error.model).toBe('gpt-4o')
    expect(error.status).toBe(429)
    expect(error.retryAfterMs).toBe(2_000)
    expect(error.requestId).toBe('req_123')
    expect(error.attempts).toEqual([attempt])
    expect(error.cause).toBe(cause)
    expect(error).toBeInstanceOf(Error)
  })

  it('has no attempts and no cause when given none', () => {
    const error = new UnderstudyError({ kind: 'server', message: 'boom' })
    expect(error.attempts).toEqual([])
    expect(Object.isFrozen(error.attempts)).toBe(true)
    expect('cause' in error).toBe(false)
    expect(error.provider).toBeUndefined()
    expect(error.status).toBeUndefined()
  })

  it('is named UnderstudyError, in its name, its string and its stack', () => {
    const error = new UnderstudyError({ kind: 'server', message: 'boom' })
    expect(error.name).toBe('UnderstudyError')
    expect(String(error)).toBe('UnderstudyError: boom')
    expect(error.stack?.split('\n')[0]).toBe('UnderstudyError: boom')
  })

  it('turns into JSON with exactly its data fields, never its cause or stack', () => {
    const cause = new Error('cause with sk-secret-in-cause')
    const error = new UnderstudyError({
      kind: 'server',
      message: 'openai/gpt-4o failed',
      provider: 'openai',
      model: 'gpt-4o',
      status: 500,
      retryAfterMs: 10,
      requestId: 'req_1',
      attempts: [attempt],
      cause,
    })
    expect(Object.keys(error.toJSON()).sort()).toEqual(
      [
        'attempts',
        'kind',
        'message',
        'model',
        'name',
        'provider',
        'requestId',
        'retryAfterMs',
        'status',
      ].sort(),
    )
    expect(error.toJSON()).toEqual({
      name: 'UnderstudyError',
      kind: 'server',
      message: 'openai/gpt-4o failed',
      provider: 'openai',
      model: 'gpt-4o',
      status: 500,
      retryAfterMs: 10,
      requestId: 'req_1',
      attempts: [attempt],
    })
    const text = JSON.stringify(error)
    expect(text).not.toContain('sk-secret-in-cause')
    expect(text).not.toContain('"cause"')
    expect(text).not.toContain('"stack"')
    expect(text).not.toContain('errors.test')
  })
})

describe('ConfigError', () => {
  it('has kind config, its path, and a message that starts with the path', () => {
    const error = new ConfigError({
      path: 'fallbacks[1].model',
      message: 'expected "provider/model"',
    })
    expect(error.kind).toBe('config')
    expect(error.path).toBe('fallbacks[1].model')
    expect(error.message).toBe('fallbacks[1].model: expected "provider/model"')
    expect(error.name).toBe('ConfigError')
    expect(String(error)).toBe('ConfigError: fallbacks[1].model: expected "provider/model"')
  })

  it('keeps the message as it is when the path is empty', () => {
    const error = new ConfigError({ path: '', message: 'invalid options' })
    expect(error.message).toBe('invalid options')
    expect(error.path).toBe('')
  })

  it('is an UnderstudyError of kind config', () => {
    const error = new ConfigError({ path: 'retries', message: 'expected 0 or more retries' })
    expect(error).toBeInstanceOf(UnderstudyError)
    expect(isUnderstudyError(error)).toBe(true)
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(isUnderstudyError(error, 'unknown')).toBe(false)
  })

  it('puts its path in JSON, besides the data fields and nothing else', () => {
    const error = new ConfigError({ path: 'health.cooldownMs', message: 'expected 0 or more ms' })
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'ConfigError',
      kind: 'config',
      message: 'health.cooldownMs: expected 0 or more ms',
      attempts: [],
      path: 'health.cooldownMs',
    })
  })
})

describe('isUnderstudyError', () => {
  it('recognises an error made by a second copy of the package', () => {
    const foreign = new ForeignUnderstudyError('rate_limit')
    expect(foreign).not.toBeInstanceOf(UnderstudyError)
    expect(isUnderstudyError(foreign)).toBe(true)
    expect(isUnderstudyError(foreign, 'rate_limit')).toBe(true)
    expect(isUnderstudyError(foreign, 'auth')).toBe(false)
  })

  it('recognises a plain object whose prototype carries the brand', () => {
    const prototype = Object.defineProperty({}, Symbol.for('understudy.error'), { value: true })
    const value: unknown = Object.assign(Object.create(prototype), { kind: 'timeout' })
    expect(isUnderstudyError(value)).toBe(true)
    expect(isUnderstudyError(value, 'timeout')).toBe(true)
    expect(isUnderstudyError(value, 'network')).toBe(false)
  })

  it('rejects values without the registered brand', () => {
    const unregistered = Object.defineProperty(new Error('x'), Symbol('understudy.error'), {
      value: true,
    })
    const wrongValue = Object.defineProperty(new Error('x'), Symbol.for('understudy.error'), {
      value: 'true',
    })
    const lookalike = Object.assign(new Error('x'), { name: 'UnderstudyError', kind: 'server' })
    for (const value of [unregistered, wrongValue, lookalike, null, undefined, 'server', 42, {}]) {
      expect(isUnderstudyError(value)).toBe(false)
    }
  })

  test.prop([fc.constantFrom(...errorKinds), fc.constantFrom(...errorKinds)])(
    'matches a kind filter exactly when the kinds are equal',
    (kind, filter) => {
      const error = new UnderstudyError({ kind, message: 'x' })
      expect(isUnderstudyError(error, filter)).toBe(kind === filter)
      expect(isUnderstudyError(new ForeignUnderstudyError(kind), filter)).toBe(kind === filter)
      expect(isUnderstudyError(error)).toBe(true)
    },
  )
})
