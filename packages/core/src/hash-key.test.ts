import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { hashKey } from './hash-key.js'

/** A 53-bit hash as hex: at most 14 characters, never padded at the front past 9. */
const hashPattern = /^[0-9a-f]{9,14}$/

describe('hashKey', () => {
  it('gives the published cyrb53 values, in hex', () => {
    // The examples of cyrb53's author (bryc): cyrb53('a') = 7929297801672961, and so on.
    expect(hashKey('a')).toBe((7929297801672961).toString(16))
    expect(hashKey('b')).toBe((8684336938537663).toString(16))
    expect(hashKey('revenge')).toBe((4051478007546757).toString(16))
    expect(hashKey('revenue')).toBe((8309097637345594).toString(16))
  })

  it('tells apart keys that differ in one character', () => {
    expect(hashKey('sk-proj-aaaaaaaaaaaa')).not.toBe(hashKey('sk-proj-aaaaaaaaaaab'))
    expect(hashKey('')).not.toBe(hashKey(' '))
  })

  test.prop([fc.string()])('gives the same hash for the same key, every time', (key) => {
    const copy = [...key].join('')
    expect(hashKey(key)).toBe(hashKey(key))
    expect(hashKey(copy)).toBe(hashKey(key))
  })

  test.prop([fc.string(), fc.string()])('gives distinct keys distinct hashes', (left, right) => {
    fc.pre(left !== right)
    expect(hashKey(left)).not.toBe(hashKey(right))
  })

  test.prop([fc.string()])('gives a short hex string whatever the key', (key) => {
    expect(hashKey(key)).toMatch(hashPattern)
  })

  test.prop([fc.string({ minLength: 8, maxLength: 200 })])('never contains the key', (key) => {
    expect(hashKey(key)).not.toContain(key)
  })
})
