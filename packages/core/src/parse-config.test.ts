import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import * as zm from 'zod/mini'
import { ConfigError, isUnderstudyError } from './errors.js'
import { formatPath, nearestKey, parseConfig } from './parse-config.js'

const options = z.strictObject({
  timeoutMs: z.number().positive().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  apiKey: z.string().min(1).optional(),
  steps: z
    .array(
      z.union(
        [
          z.string(),
          z.discriminatedUnion('type', [
            z.strictObject({ type: z.literal('text'), text: z.string() }),
            z.strictObject({ type: z.literal('wait'), ms: z.number() }),
          ]),
        ],
        { message: 'expected a string or a step object' },
      ),
    )
    .optional(),
})

/** The ConfigError `parseConfig` throws for `value`, checked to be one. */
function failure(value: unknown, path?: string): ConfigError {
  try {
    parseConfig(options, value, path)
  } catch (error) {
    expect(isUnderstudyError(error, 'config')).toBe(true)
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error('expected parseConfig to throw')
}

describe('parseConfig', () => {
  it('returns what the schema gives', () => {
    const schema = z.object({ retries: z.number().default(2) })
    expect(parseConfig(schema, {})).toEqual({ retries: 2 })
  })

  it('names the path after the given one, with what was expected and received', () => {
    const error = failure({ timeoutMs: '10s' }, 'tool(options)')
    expect(error.path).toBe('tool(options).timeoutMs')
    expect(error.message).toBe('tool(options).timeoutMs: expected number; received "10s"')
  })

  it('starts the path at the first key when none is given', () => {
    expect(failure({ timeoutMs: 0 }).message).toBe(
      'timeoutMs: Too small: expected number to be >0; received 0',
    )
  })

  it('writes array indexes and keys that are not identifiers in brackets', () => {
    expect(failure({ labels: { 'x-tenant': 1 } }, 'o').path).toBe('o.labels["x-tenant"]')
    expect(failure({ steps: ['a', 1] }, 'o').path).toBe('o.steps[1]')
  })

  it('names an unknown key and the keys its object takes', () => {
    const error = failure({ timeout: 5 }, 'o')
    expect(error.path).toBe('o.timeout')
    expect(error.message).toBe(
      'o.timeout: expected one of "timeoutMs", "labels", "apiKey", "steps"; ' +
        'received unknown option "timeout"; did you mean "timeoutMs"?',
    )
  })

  it('suggests the key an unknown one was probably meant as', () => {
    expect(failure({ Labels: {} }).message).toMatch(/; did you mean "labels"\?$/)
    expect(failure({ apikey: 'sk-typo-secret' }).message).toMatch(
      /; received unknown option "apikey"; did you mean "apiKey"\?$/,
    )
  })

  it('suggests nothing for an unknown key close to no known one', () => {
    const error = failure({ colour: 'red' }, 'o')
    expect(error.message).toBe(
      'o.colour: expected one of "timeoutMs", "labels", "apiKey", "steps"; ' +
        'received unknown option "colour"',
    )
  })

  it('says which key each suggestion is for when several are unknown', () => {
    const error = failure({ lables: {}, colour: 'red', step: [] }, 'o')
    expect(error.path).toBe('o.lables')
    expect(error.message).toMatch(
      /; received unknown options "lables", "colour", "step"; did you mean "labels" for "lables", "steps" for "step"\?$/,
    )
  })

  it('never shows the value of an unknown key, whatever it is', () => {
    expect(failure({ apikey: 'sk-typo-secret' }).message).not.toContain('sk-typo-secret')
  })

  it('reports the union branch the value was meant for', () => {
    const error = failure({ steps: [{ type: 'wait', ms: 'soon' }] })
    expect(error.path).toBe('steps[0].ms')
    expect(error.message).toBe('steps[0].ms: expected number; received "soon"')
  })

  it('shows the discriminator of an object that matched no option', () => {
    const error = failure({ steps: [{ type: 'sleep', ms: 5 }] })
    expect(error.path).toBe('steps[0].type')
    expect(error.message).toMatch(/; received "sleep"$/)
  })

  it("gives the union's own message when no branch was meant", () => {
    expect(failure({ steps: [true] }).message).toBe(
      'steps[0]: expected a string or a step object; received true',
    )
  })

  it('never shows a value under apiKey', () => {
    const error = failure({ apiKey: '' })
    expect(error.path).toBe('apiKey')
    expect(error.message).not.toContain('received')
  })

  it('takes zod mini schemas too', () => {
    const schema = zm.object({ port: zm.number() })
    expect(parseConfig(schema, { port: 80 })).toEqual({ port: 80 })
    expect(() => parseConfig(schema, { port: '80' }, 'server')).toThrow(
      'server.port: expected number; received "80"',
    )
  })
})

describe('nearestKey', () => {
  const known = ['apiKey', 'baseURL', 'headers', 'fallbacks', 'timeoutMs', 'maxTokens']

  it('matches a key spelled with another case, or with _ or -', () => {
    expect(nearestKey('baseUrl', known)).toBe('baseURL')
    expect(nearestKey('apikey', known)).toBe('apiKey')
    expect(nearestKey('APIKEY', known)).toBe('apiKey')
    expect(nearestKey('max_tokens', known)).toBe('maxTokens')
    expect(nearestKey('api-key', known)).toBe('apiKey')
  })

  it('matches a key a few edits away: a letter missing, added, changed or two swapped', () => {
    expect(nearestKey('fallback', known)).toBe('fallbacks')
    expect(nearestKey('hedaers', known)).toBe('headers')
    expect(nearestKey('timeout', known)).toBe('timeoutMs')
    expect(nearestKey('baseURI', known)).toBe('baseURL')
  })

  it('matches nothing further than a third of the key away', () => {
    expect(nearestKey('url', known)).toBeUndefined()
    expect(nearestKey('key', known)).toBeUndefined()
    expect(nearestKey('organization', known)).toBeUndefined()
    expect(nearestKey('x', [])).toBeUndefined()
  })

  it('gives a tie to the key listed first', () => {
    expect(nearestKey('ab', ['ac', 'ad'])).toBe('ac')
    expect(nearestKey('ab', ['ad', 'ac'])).toBe('ad')
  })
})

describe('formatPath', () => {
  it('writes each key as code would', () => {
    expect(formatPath('', ['fallbacks', 1, 'model'])).toBe('fallbacks[1].model')
    expect(formatPath('mock("a")', ['scripts', 'gpt-4o', 0])).toBe('mock("a").scripts["gpt-4o"][0]')
    expect(formatPath('', ['$ok', '_x', '1st'])).toBe('$ok._x["1st"]')
  })
})
