import type { Dispatcher } from 'undici'
import { describe, expectTypeOf, it } from 'vitest'
import * as z from 'zod'
import { checkProviderOptions, providerOptionsShape } from './check-provider-options.js'
import type { FetchFunction } from './send-request.js'

describe('checkProviderOptions', () => {
  it("gives the schema's output: every common option optional, with its own type", () => {
    const schema = z.strictObject({ ...providerOptionsShape, region: z.string() })
    const options = checkProviderOptions(schema, {}, 'acme(options)')
    expectTypeOf(options.apiKey).toEqualTypeOf<string | undefined>()
    expectTypeOf(options.keyPerTarget).toEqualTypeOf<boolean | undefined>()
    expectTypeOf(options.headers).toEqualTypeOf<Readonly<Record<string, string>> | undefined>()
    expectTypeOf(options.dispatcher).toEqualTypeOf<Dispatcher | undefined>()
    expectTypeOf(options.fetch).toEqualTypeOf<FetchFunction | undefined>()
    expectTypeOf(options.region).toEqualTypeOf<string>()
  })
})
