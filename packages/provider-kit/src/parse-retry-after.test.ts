import { readFileSync } from 'node:fs'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { parseDuration, parseRetryAfter } from './parse-retry-after.js'

/** A recorded fixture from the shared folder beside the repository, as parsed JSON. */
function readFixture(path: string): unknown {
  const url = new URL(`../../../fixtures/${path}`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8'))
}

/** Response headers from a `*.headers.json` fixture: a value or, for repeated headers, a list. */
function readHeadersFixture(path: string): Headers {
  const record = readFixture(path)
  if (typeof record !== 'object' || record === null) throw new Error(`${path}: expected an object`)
  const headers = new Headers()
  for (const [name, value] of Object.entries(record)) {
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, String(item))
  }
  return headers
}

/** `RetryInfo.retryDelay` from a Gemini error body's `details`. */
function retryDelayOf(body: unknown): unknown {
  const details: unknown = Reflect.get(Reflect.get(Object(body), 'error') ?? {}, 'details')
  if (!Array.isArray(details)) throw new Error('expected error.details to be an array')
  const retryInfo: unknown = details.find(
    (detail: unknown) =>
      Reflect.get(Object(detail), '@type') === 'type.googleapis.com/google.rpc.RetryInfo',
  )
  return Reflect.get(Object(retryInfo), 'retryDelay')
}

const headers = (record: Record<string, string>): Headers => new Headers(record)

/** Seconds of 0 or more whose `String()` is plain decimal text (no exponent), as a header writes them. */
const decimalSeconds = fc
  .double({ min: 0, max: 1e9, noNaN: true, noDefaultInfinity: true })
  .filter((seconds) => !String(seconds).includes('e'))

const now = Date.parse('Mon, 02 Jun 2025 15:14:29 GMT')

describe('parseRetryAfter', () => {
  it('reads whole seconds', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '16' }), now)).toBe(16_000)
    expect(parseRetryAfter(headers({ 'retry-after': '0' }), now)).toBe(0)
  })

  it('reads fractional seconds, rounding up to a whole ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '1.5' }), now)).toBe(1_500)
    expect(parseRetryAfter(headers({ 'retry-after': '0.0001' }), now)).toBe(1)
  })

  it('reads an HTTP date as the time from now', () => {
    const value = 'Mon, 02 Jun 2025 15:14:45 GMT'
    expect(parseRetryAfter(headers({ 'retry-after': value }), now)).toBe(16_000)
  })

  it('reads an HTTP date in the past as 0', () => {
    const value = 'Mon, 02 Jun 2025 15:00:00 GMT'
    expect(parseRetryAfter(headers({ 'retry-after': value }), now)).toBe(0)
  })

  it('prefers retry-after-ms over retry-after', () => {
    const both = headers({ 'retry-after-ms': '250', 'retry-after': '16' })
    expect(parseRetryAfter(both, now)).toBe(250)
    expect(parseRetryAfter(headers({ 'retry-after-ms': '0.5' }), now)).toBe(1)
  })

  it('falls back to retry-after when retry-after-ms is unreadable', () => {
    const both = headers({ 'retry-after-ms': 'soon', 'retry-after': '2' })
    expect(parseRetryAfter(both, now)).toBe(2_000)
  })

  it('is undefined without either header', () => {
    expect(parseRetryAfter(headers({}), now)).toBeUndefined()
    expect(parseRetryAfter(new Map<string, string>(), now)).toBeUndefined()
  })

  it('is undefined for garbage', () => {
    for (const value of [
      'soon',
      '',
      '   ',
      '1,5',
      '0x10',
      '1e3',
      'Infinity',
      'NaN',
      '12abc',
      '.5',
      '5.',
    ]) {
      expect(parseRetryAfter(headers({ 'retry-after': value }), now), value).toBeUndefined()
    }
  })

  it('is undefined for a negative number', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '-5' }), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ 'retry-after': '-0.5' }), now)).toBeUndefined()
    expect(parseRetryAfter(headers({ 'retry-after-ms': '-100' }), now)).toBeUndefined()
  })

  it('reads the recorded Retry-After of an Anthropic 429', () => {
    const recorded = readHeadersFixture('anthropic/error-429-rate-limit.headers.json')
    expect(recorded.get('retry-after')).toBe('16')
    expect(parseRetryAfter(recorded, now)).toBe(16_000)
  })

  test.prop([fc.nat()])('reads any whole number of seconds s as s * 1000 ms', (seconds) => {
    expect(parseRetryAfter(headers({ 'retry-after': String(seconds) }), now)).toBe(seconds * 1000)
  })

  test.prop([decimalSeconds])(
    'reads any non-negative seconds s as the whole ms at or just above s * 1000',
    (seconds) => {
      const ms = parseRetryAfter(headers({ 'retry-after': String(seconds) }), now) ?? Number.NaN
      expect(Number.isInteger(ms)).toBe(true)
      expect(ms).toBeGreaterThanOrEqual(seconds * 1000 - 1e-6)
      expect(ms).toBeLessThan(seconds * 1000 + 1)
    },
  )

  it('does not add a ms for float noise: 16.01 s is 16010 ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '16.01' }), now)).toBe(16_010)
  })

  test.prop([fc.integer({ min: -1_000_000, max: 1_000_000 })])(
    'reads an HTTP date d seconds from now as max(0, d * 1000) ms',
    (seconds) => {
      const value = new Date(now + seconds * 1000).toUTCString()
      expect(parseRetryAfter(headers({ 'retry-after': value }), now)).toBe(
        Math.max(0, seconds * 1000),
      )
    },
  )

  test.prop([fc.string(), fc.string()])(
    'never throws, and gives undefined or a whole number of ms of 0 or more',
    (retryAfter, retryAfterMs) => {
      const reader = new Map([
        ['retry-after', retryAfter],
        ['retry-after-ms', retryAfterMs],
      ])
      const ms = parseRetryAfter(reader, now)
      if (ms !== undefined) {
        expect(Number.isInteger(ms)).toBe(true)
        expect(ms).toBeGreaterThanOrEqual(0)
      }
    },
  )
})

describe('parseDuration', () => {
  it('reads whole seconds', () => {
    expect(parseDuration('36s')).toBe(36_000)
    expect(parseDuration('0s')).toBe(0)
  })

  it('reads fractional seconds, rounding up to a whole ms', () => {
    expect(parseDuration('34.4s')).toBe(34_400)
    expect(parseDuration('0.5s')).toBe(500)
    expect(parseDuration('36.429760048s')).toBe(36_430)
  })

  it('is undefined for anything that is not a duration', () => {
    for (const value of ['36', 's', '-1s', '1.s', '.5s', '36ms', '1e3s', '36 s', '', 'soon']) {
      expect(parseDuration(value), value).toBeUndefined()
    }
    for (const value of [36, null, undefined, {}, ['36s']]) {
      expect(parseDuration(value)).toBeUndefined()
    }
  })

  it('reads the recorded RetryInfo.retryDelay of a Gemini 429', () => {
    const retryDelay = retryDelayOf(
      readFixture('gemini/error-429-resource-exhausted-retryinfo.json'),
    )
    expect(retryDelay).toBe('36s')
    expect(parseDuration(retryDelay)).toBe(36_000)
  })

  test.prop([decimalSeconds])(
    'reads any non-negative seconds s written as "<s>s" as ceil(s * 1000) ms',
    (seconds) => {
      const ms = parseDuration(`${seconds}s`) ?? Number.NaN
      expect(ms).toBeGreaterThanOrEqual(seconds * 1000 - 1e-6)
      expect(ms).toBeLessThan(seconds * 1000 + 1)
    },
  )
})
