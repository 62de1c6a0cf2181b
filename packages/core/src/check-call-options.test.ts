import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { baseURLsOf, isPlainlyValid } from './check-call-options.js'
import type { CallOptions } from './options.js'
import { callOptionsSchema } from './options-schema.js'

const knownURL = 'https://known.example/v1'
const knownURLs: ReadonlySet<string> = new Set([knownURL])

const numberish = fc.oneof(
  fc.integer({ min: -3, max: 10_000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.string({ maxLength: 3 }),
)
const targetString = fc.oneof(
  fc.constantFrom(
    'openai/gpt-4o',
    'openrouter/meta-llama/llama-3',
    'a/b',
    'nope',
    '/x',
    'a/',
    ' a/b',
    'a/ b',
  ),
  fc.string({ maxLength: 8 }),
)
const validTarget = fc.constantFrom('openai/gpt-4o', 'openrouter/meta-llama/llama-3', 'a/b')
const headers = fc.dictionary(
  fc.string({ maxLength: 6 }),
  fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
  {
    maxKeys: 3,
  },
)
const baseURL = fc.constantFrom(
  knownURL,
  'https://unknown.example/v1',
  'ftp://127.0.0.1/v1',
  'not a url',
  '',
)
const hook = fc.constantFrom((): void => {}, 3, 'x')

/** Per option: values the schema accepts, and values of every shape, valid or not. */
const fields = {
  fallbacks: {
    valid: fc.array(
      fc.oneof(validTarget, fc.record({ model: validTarget, apiKey: fc.constant('k') })),
      {
        maxLength: 3,
      },
    ),
    any: fc.oneof(
      fc.array(
        fc.oneof(
          targetString,
          fc.record(
            {
              model: targetString,
              apiKey: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
              baseURL,
              headers,
              retries: numberish,
              attemptTimeoutMs: numberish,
              params: fc.constantFrom({ temperature: 0.2 }, { max_tokens: 3 }),
              unset: fc.constantFrom(['temperature'], ['nope']),
              extra: fc.constant(1),
            },
            { requiredKeys: [] },
          ),
        ),
        { maxLength: 3 },
      ),
      fc.constant('a/b'),
    ),
  },
  retries: { valid: fc.nat({ max: 5 }), any: numberish },
  timeoutMs: { valid: fc.integer({ min: 1, max: 60_000 }), any: numberish },
  attemptTimeoutMs: { valid: fc.constantFrom(1, 500, Number.POSITIVE_INFINITY), any: numberish },
  firstTokenTimeoutMs: { valid: fc.integer({ min: 1, max: 60_000 }), any: numberish },
  idleTimeoutMs: { valid: fc.constantFrom(1, Number.POSITIVE_INFINITY), any: numberish },
  hedgeAfterMs: { valid: fc.nat({ max: 5_000 }), any: numberish },
  midStream: {
    valid: fc.constantFrom('fail', 'continue'),
    any: fc.constantFrom('fail', 'continue', 'retry', '', 1),
  },
  backoff: {
    valid: fc.record({ initialDelayMs: fc.nat(), maxDelayMs: fc.nat() }, { requiredKeys: [] }),
    any: fc.oneof(
      fc.record({ initialDelayMs: numberish, maxDelayMs: numberish }, { requiredKeys: [] }),
      fc.constant({ jitter: true }),
    ),
  },
  apiKey: {
    valid: fc.string({ minLength: 1, maxLength: 6 }),
    any: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
  },
  baseURL: { valid: fc.constant(knownURL), any: baseURL },
  headers: {
    valid: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    any: headers,
  },
  hooks: {
    valid: fc.record({ onAttempt: fc.constant((): void => {}) }, { requiredKeys: [] }),
    any: fc.oneof(
      fc.record({ onAttempt: hook, onRetry: hook }, { requiredKeys: [] }),
      fc.constant({ onSucess: (): void => {} }),
    ),
  },
  signal: {
    valid: fc.constant(new AbortController().signal),
    any: fc.constantFrom({}, null, 'signal'),
  },
} as const
type Field = keyof typeof fields
const names = Object.keys(fields) as Field[]

/** Valid options with, often, one field given a value of any shape (or an unknown key added). */
const options = fc
  .tuple(
    fc.record(
      Object.fromEntries(names.map((name) => [name, fields[name].valid])) as {
        [K in Field]: (typeof fields)[K]['valid']
      },
      { requiredKeys: [] },
    ),
    fc.option(fc.constantFrom(...names, 'fallback' as const)),
    fc.anything(),
  )
  .chain(([base, spoiled]) =>
    spoiled === null
      ? fc.constant(base as Record<string, unknown>)
      : (spoiled === 'fallback'
          ? fc.constant([])
          : (fields[spoiled].any as fc.Arbitrary<unknown>)
        ).map((value) => ({ ...base, [spoiled]: value }) as Record<string, unknown>),
  )

describe('isPlainlyValid', () => {
  test.prop([options], { numRuns: 2_000 })(
    'never takes as valid what the schema rejects',
    (value) => {
      if (isPlainlyValid(value as CallOptions, knownURLs)) {
        expect(callOptionsSchema.safeParse(value).success).toBe(true)
      }
    },
  )

  it('takes the common shapes as valid, so they skip the schema', () => {
    const common: CallOptions = {
      fallbacks: [
        'anthropic/claude-sonnet-4-5',
        { model: 'openai/gpt-4o-mini', apiKey: 'k', baseURL: knownURL },
      ],
      retries: 2,
      timeoutMs: 30_000,
      attemptTimeoutMs: Number.POSITIVE_INFINITY,
      backoff: { initialDelayMs: 0 },
      headers: { 'x-team': 'a' },
      hooks: { onAttempt: () => {} },
      signal: new AbortController().signal,
    }
    expect(isPlainlyValid(common, knownURLs)).toBe(true)
  })

  it('leaves to the schema what it does not check itself: policy, params, unknown base URLs', () => {
    expect(isPlainlyValid({ policy: { invalid_request: { fallback: true } } }, knownURLs)).toBe(
      false,
    )
    expect(
      isPlainlyValid({ fallbacks: [{ model: 'a/b', params: { temperature: 0 } }] }, knownURLs),
    ).toBe(false)
    expect(isPlainlyValid({ baseURL: 'https://unknown.example/v1' }, knownURLs)).toBe(false)
  })
})

describe('baseURLsOf', () => {
  it('lists the call’s base URL and every target’s', () => {
    expect(
      baseURLsOf({
        baseURL: 'https://a.example',
        fallbacks: ['x/y', { model: 'x/z', baseURL: 'https://b.example' }],
        contentPolicyFallbacks: [{ model: 'x/w', baseURL: 'https://c.example' }],
      }),
    ).toEqual(['https://a.example', 'https://b.example', 'https://c.example'])
  })
})
