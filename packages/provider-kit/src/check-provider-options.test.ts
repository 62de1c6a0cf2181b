import { ConfigError, isUnderstudyError } from '@understudy/core'
import { Agent } from 'undici'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import {
  checkHttpURL,
  checkProviderKey,
  checkProviderOptions,
  httpURLSchema,
  keyHelp,
  providerOptionsShape,
} from './check-provider-options.js'

const acmeSchema = z.strictObject({
  ...providerOptionsShape,
  baseURL: httpURLSchema('https://api.acme.example/v1').optional(),
  region: z.enum(['eu', 'us']).optional(),
})

/** The ConfigError `make` throws, checked to be one. */
function thrownBy(make: () => unknown): ConfigError {
  try {
    make()
  } catch (error) {
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}

function check(options: unknown): unknown {
  return checkProviderOptions(acmeSchema, options, 'acme(options)')
}

describe('checkProviderOptions', () => {
  it('gives the options back as a fresh object, undefined ones as {}', () => {
    const headers = { 'x-team': 'blue' }
    const given = { apiKey: 'sk-1', headers, region: 'eu' as const }
    const checked = checkProviderOptions(acmeSchema, given, 'acme(options)')
    expect(checked).toEqual(given)
    expect(checked).not.toBe(given)
    expect(checked.headers).not.toBe(headers)
    expect(check(undefined)).toEqual({})
  })

  it('takes a dispatcher and a fetch function as they are', () => {
    const dispatcher = new Agent()
    const checked = checkProviderOptions(acmeSchema, { dispatcher, fetch }, 'acme(options)')
    expect(checked.dispatcher).toBe(dispatcher)
    expect(checked.fetch).toBe(fetch)
    void dispatcher.close()
  })

  it('names an unknown option with the one it was probably meant as', () => {
    const error = thrownBy(() => check({ baseUrl: 'http://127.0.0.1:8080/v1' }))
    expect(error.path).toBe('acme(options).baseUrl')
    expect(error.message).toBe(
      'acme(options).baseUrl: expected one of "apiKey", "keyPerTarget", "headers", ' +
        '"dispatcher", "fetch", "baseURL", "region"; received unknown option "baseUrl"; ' +
        'did you mean "baseURL"?',
    )
    expect(thrownBy(() => check({ apikey: 'sk-typo-secret' })).message).toMatch(
      /received unknown option "apikey"; did you mean "apiKey"\?$/,
    )
  })

  it('never shows a key, whether misspelled, empty or passed in place of the options', () => {
    expect(thrownBy(() => check({ apikey: 'sk-typo-secret' })).message).not.toContain('sk-typo')
    const empty = thrownBy(() => check({ apiKey: '' }))
    expect(empty.message).toBe('acme(options).apiKey: expected a non-empty key')
    const positional = thrownBy(() => check('sk-positional-secret'))
    expect(positional.message).toBe('acme(options): expected an options object')
    expect(thrownBy(() => check(null)).path).toBe('acme(options)')
    expect(thrownBy(() => check([])).path).toBe('acme(options)')
  })

  it.each([
    ['a host and port without a scheme', 'localhost:8080/v1'],
    ['a path', '/v1'],
    ['another scheme', 'ftp://127.0.0.1/v1'],
    ['an empty string', ''],
  ])('refuses a base URL that is %s, naming an example and not the value', (_what, baseURL) => {
    const error = thrownBy(() => check({ baseURL }))
    expect(error.path).toBe('acme(options).baseURL')
    expect(error.message).toBe(
      'acme(options).baseURL: expected an http: or https: URL, such as "https://api.acme.example/v1"',
    )
  })

  it('takes http: and https: base URLs', () => {
    expect(check({ baseURL: 'http://127.0.0.1:8080/v1' })).toEqual({
      baseURL: 'http://127.0.0.1:8080/v1',
    })
    expect(check({ baseURL: 'https://api.acme.example/v1' })).toEqual({
      baseURL: 'https://api.acme.example/v1',
    })
  })

  it.each([
    ['headers', { headers: { 'x-team': 1 } }, 'acme(options).headers["x-team"]'],
    ['dispatcher', { dispatcher: {} }, 'acme(options).dispatcher'],
    ['fetch', { fetch: 'fetch' }, 'acme(options).fetch'],
    ['keyPerTarget', { keyPerTarget: 'yes' }, 'acme(options).keyPerTarget'],
  ])('refuses a %s of the wrong type, naming it', (_name, options, path) => {
    expect(thrownBy(() => check(options)).path).toBe(path)
  })
})

describe('checkHttpURL', () => {
  it('refuses a value that is not an http: or https: URL, without showing it', () => {
    const error = thrownBy(() =>
      checkHttpURL('user:secret@host/v1', 'ACME_BASE_URL', 'https://api.acme.example/v1'),
    )
    expect(error.path).toBe('ACME_BASE_URL')
    expect(error.message).not.toContain('secret')
    expect(error.message).toMatch(/such as "https:\/\/api\.acme\.example\/v1"$/)
    expect(() => checkHttpURL('https://x.example', 'p', 'e')).not.toThrow()
  })
})

describe('checkProviderKey', () => {
  const source = { factory: 'acme()', env: 'ACME_API_KEY' }

  it('throws at the factory when no key can be found, saying how to give one', () => {
    const error = thrownBy(() =>
      checkProviderKey({ ...source, key: undefined, keyPerTarget: undefined }),
    )
    expect(error.path).toBe('acme(options).apiKey')
    expect(error.message).toBe(
      'acme(options).apiKey: no API key: set ACME_API_KEY or pass apiKey to acme(), ' +
        'or keyPerTarget: true if every target brings its own apiKey',
    )
    expect(thrownBy(() => checkProviderKey({ ...source, key: '', keyPerTarget: false })).path).toBe(
      'acme(options).apiKey',
    )
  })

  it('names only the option when the factory reads no variable', () => {
    const error = thrownBy(() =>
      checkProviderKey({ factory: 'acme()', key: undefined, keyPerTarget: undefined }),
    )
    expect(error.message).toMatch(/: no API key: pass apiKey to acme\(\), or keyPerTarget/)
  })

  it('passes with a key, or when every target brings its own', () => {
    expect(() =>
      checkProviderKey({ ...source, key: 'sk-1', keyPerTarget: undefined }),
    ).not.toThrow()
    expect(() => checkProviderKey({ ...source, key: undefined, keyPerTarget: true })).not.toThrow()
  })
})

describe('keyHelp', () => {
  it('names the variable, then the option and the factory', () => {
    expect(keyHelp({ factory: 'openai()', env: 'OPENAI_API_KEY' })).toBe(
      'set OPENAI_API_KEY or pass apiKey to openai()',
    )
    expect(keyHelp({ factory: 'openaiCompatible()' })).toBe('pass apiKey to openaiCompatible()')
  })
})
