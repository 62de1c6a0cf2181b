import { fc } from '@fast-check/vitest'

/** Values of every kind a field may hold, the plain ones and the odd ones. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(undefined, null, '', 'x', 0, 1, 3, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.constantFrom(
    '7',
    true,
    [],
    {},
    [{ type: 'text', text: 'a' }],
    { city: 'Oslo' },
    { message: 'boom' },
  ),
  fc.anything({ maxDepth: 1 }),
)

export const nullishString: fc.Arbitrary<string | null | undefined> = fc.oneof(
  fc.constantFrom(undefined, null),
  fc.string({ maxLength: 4 }),
)

/** A field that is mostly of its plain form and sometimes anything at all. */
export const mostly = <T>(plain: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: plain, weight: 4 }, { arbitrary: anyValue, weight: 1 })

const count = mostly(fc.oneof(fc.constantFrom(undefined, null), fc.nat()))

/** An Anthropic `usage` object, mostly well formed: the same in a message and in a stream's events. */
export const usage: fc.Arbitrary<unknown> = fc.record(
  {
    input_tokens: count,
    output_tokens: count,
    cache_creation_input_tokens: count,
    cache_read_input_tokens: count,
    service_tier: anyValue,
  },
  { requiredKeys: [] },
)
