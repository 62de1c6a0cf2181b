import { describe, expect, it } from 'vitest'
import { parseCount, parseDuration } from './parse-duration.js'

describe('parseDuration', () => {
  it('reads ms, seconds, minutes and bare numbers of ms', () => {
    expect(parseDuration('1500ms')).toBe(1500)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('2000')).toBe(2000)
    expect(parseDuration(' 10s ')).toBe(10_000)
  })

  it('rounds a fraction of a ms up, never down to zero', () => {
    expect(parseDuration('0.2')).toBe(1)
    expect(parseDuration('.5ms')).toBe(1)
  })

  it('refuses zero, negatives, other units and words', () => {
    for (const text of ['0', '0s', '-1s', '10h', '10 s', 's', '', 'ten', '1e3', 'Infinity'])
      expect(parseDuration(text), text).toBeUndefined()
  })
})

describe('parseCount', () => {
  it('reads whole numbers of 0 or more', () => {
    expect(parseCount('0')).toBe(0)
    expect(parseCount('3')).toBe(3)
  })

  it('refuses fractions, negatives and words', () => {
    for (const text of ['1.5', '-1', 'two', '', '1e2', '99999999999999999999'])
      expect(parseCount(text), text).toBeUndefined()
  })
})
