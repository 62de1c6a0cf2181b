import type { Provider } from '@understudy/core'
import type { Dispatcher } from 'undici'
import { describe, expectTypeOf, it } from 'vitest'
import { type DefineProviderOptions, defineProvider } from './define-provider.js'
import type { ProviderSpec, SseMessage } from './provider-spec.js'
import { readSse } from './read-sse.js'
import { type HttpResponse, sendRequest } from './send-request.js'

describe('defineProvider', () => {
  it('turns a spec into a core Provider', () => {
    expectTypeOf(defineProvider).parameter(0).toEqualTypeOf<ProviderSpec>()
    expectTypeOf(defineProvider).returns.toEqualTypeOf<Provider>()
  })

  it('takes an undici dispatcher or a fetch, both optional', () => {
    expectTypeOf<DefineProviderOptions>().toEqualTypeOf<{
      readonly dispatcher?: Dispatcher | undefined
      readonly fetch?: ((input: string, init: RequestInit) => Promise<Response>) | undefined
    }>()
  })

  it('lets a spec read its key synchronously or asynchronously', () => {
    expectTypeOf<() => string | undefined>().toExtend<ProviderSpec['apiKey']>()
    expectTypeOf<() => Promise<string | undefined>>().toExtend<ProviderSpec['apiKey']>()
  })
})

describe('sendRequest and readSse', () => {
  it('resolves with a response whose body readSse reads', () => {
    expectTypeOf(sendRequest).returns.toEqualTypeOf<Promise<HttpResponse>>()
    expectTypeOf(readSse).parameter(0).toEqualTypeOf<AsyncIterable<Uint8Array>>()
    expectTypeOf(readSse).returns.toExtend<AsyncIterable<SseMessage>>()
  })
})
