import type { Provider } from '@understudy/core'
import { describe, expectTypeOf, it } from 'vitest'
import {
  deepseek,
  fireworks,
  groq,
  lmstudio,
  mistral,
  type OpenAICompatibleOptions,
  type OpenAICompatiblePresetOptions,
  ollama,
  openaiCompatible,
  openrouter,
  together,
  vllm,
} from './openai-compatible.js'

describe('openaiCompatible', () => {
  it('needs an id and a base URL, and makes a core Provider', () => {
    expectTypeOf(openaiCompatible).parameter(0).toEqualTypeOf<OpenAICompatibleOptions>()
    expectTypeOf(openaiCompatible).returns.toEqualTypeOf<Provider>()
    expectTypeOf<{ id: string; baseURL: string }>().toExtend<OpenAICompatibleOptions>()
    expectTypeOf<{ id: string }>().not.toExtend<OpenAICompatibleOptions>()
  })

  it('says a key is optional with keyRequired: false, not with a sentinel key', () => {
    expectTypeOf<OpenAICompatibleOptions['keyRequired']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf<OpenAICompatibleOptions['apiKey']>().toEqualTypeOf<string | undefined>()
  })

  it('says every target brings its own key with keyPerTarget: true, not with a sentinel key', () => {
    expectTypeOf<OpenAICompatibleOptions['keyPerTarget']>().toEqualTypeOf<boolean | undefined>()
    expectTypeOf(groq).toBeCallableWith({ keyPerTarget: true })
  })
})

describe('presets', () => {
  it('each take every option of openaiCompatible, all optional, and make a Provider', () => {
    for (const preset of [
      groq,
      together,
      openrouter,
      deepseek,
      mistral,
      fireworks,
      ollama,
      vllm,
      lmstudio,
    ]) {
      expectTypeOf(preset).toEqualTypeOf<(options?: OpenAICompatiblePresetOptions) => Provider>()
    }
    expectTypeOf<OpenAICompatiblePresetOptions>().toEqualTypeOf<Partial<OpenAICompatibleOptions>>()
    expectTypeOf(groq).toBeCallableWith()
    expectTypeOf(groq).toBeCallableWith({ id: 'groq-eu', apiKeyEnv: 'GROQ_EU_KEY' })
  })
})
