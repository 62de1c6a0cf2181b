import type { Provider } from '@understudy/core'
import { describe, expectTypeOf, it } from 'vitest'
import { type AnthropicProviderOptions, anthropic } from './anthropic-provider.js'
import type { AnthropicVersion } from './api-version.js'

describe('anthropic', () => {
  it('takes options, all optional, and makes a core Provider', () => {
    expectTypeOf(anthropic).toBeCallableWith()
    expectTypeOf(anthropic).parameter(0).toEqualTypeOf<AnthropicProviderOptions | undefined>()
    expectTypeOf(anthropic).returns.toEqualTypeOf<Provider>()
  })

  it('takes the two API versions it speaks, and no other', () => {
    expectTypeOf<AnthropicVersion>().toEqualTypeOf<'2023-06-01' | '2026-10-21'>()
    expectTypeOf(anthropic).toBeCallableWith({ version: '2023-06-01', maxTokens: 1024 })
    expectTypeOf<'2024-01-01'>().not.toExtend<NonNullable<AnthropicProviderOptions['version']>>()
  })

  it('takes an auth token in place of an API key', () => {
    expectTypeOf(anthropic).toBeCallableWith({ authToken: 'token', baseURL: 'https://gw.example' })
  })
})
