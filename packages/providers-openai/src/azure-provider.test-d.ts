import type { Provider } from '@understudy/core'
import { describe, expectTypeOf, it } from 'vitest'
import { type AzureProviderOptions, azure } from './azure-provider.js'

describe('azure', () => {
  it('takes options, all optional, and makes a core Provider', () => {
    expectTypeOf(azure).toBeCallableWith()
    expectTypeOf(azure).parameter(0).toEqualTypeOf<AzureProviderOptions | undefined>()
    expectTypeOf(azure).returns.toEqualTypeOf<Provider>()
  })

  it('takes a token provider that answers synchronously or asynchronously', () => {
    expectTypeOf(azure).toBeCallableWith({ azureADTokenProvider: () => 'token' })
    expectTypeOf(azure).toBeCallableWith({ azureADTokenProvider: async () => 'token' })
    expectTypeOf<() => Promise<undefined>>().not.toExtend<
      NonNullable<AzureProviderOptions['azureADTokenProvider']>
    >()
  })

  it('maps target models to deployment names', () => {
    expectTypeOf<AzureProviderOptions['deployments']>().toEqualTypeOf<
      Readonly<Record<string, string>> | undefined
    >()
  })
})
