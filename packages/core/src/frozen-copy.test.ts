import { fc, test } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { frozenCopy } from './frozen-copy.js'

describe('frozenCopy', () => {
  test.prop([
    fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)), {
      noNullPrototype: true,
    }),
  ])(
    'copies every own property into a new frozen object and leaves the source as it was',
    (source) => {
      const before = { ...source }
      const copy = frozenCopy(source)
      expect(copy).not.toBe(source)
      expect(Object.isFrozen(copy)).toBe(true)
      expect(Object.isFrozen(source)).toBe(false)
      expect(copy).toStrictEqual(before)
      expect(source).toStrictEqual(before)
    },
  )

  test('keeps an own __proto__ key a property, as a spread does, not a prototype', () => {
    const source = JSON.parse('{"__proto__": {"polluted": true}, "inputTokens": 3}') as object
    const copy = frozenCopy(source)
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.keys(copy)).toStrictEqual(['__proto__', 'inputTokens'])
    expect(copy).toStrictEqual({ ...source })
  })
})
