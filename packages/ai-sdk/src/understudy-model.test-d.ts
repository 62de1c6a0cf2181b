import { anthropic } from '@ai-sdk/anthropic'
import { createOpenAI } from '@ai-sdk/openai3'
import type { Client } from '@understudy/core'
import type { LanguageModel } from 'ai'
import { describe, expectTypeOf, it } from 'vitest'
import { fromAISDK } from './from-aisdk.js'
import { understudyModel } from './understudy-model.js'

declare const client: Client

describe('understudyModel', () => {
  it('is a model for ai 7', () => {
    const model = understudyModel(client, { model: 'openai/gpt-4o', fallbacks: ['anthropic/x'] })
    // An assignment: LanguageModel is a union with model-id strings, which toExtend reads member by member.
    const forAI7: LanguageModel = model
    expectTypeOf(forAI7).not.toBeString()
    // ai 6's LanguageModel is the same V3 type from @ai-sdk/provider 3, which an ai 6
    // application resolves this package's types to; here the repository also holds
    // provider 4 (ai 7's), so the check is the ai 6 suites', at run time.
  })

  it('takes Understudy’s call options but not a signal: that is the AI SDK’s abortSignal', () => {
    // @ts-expect-error signal comes from generateText's abortSignal
    understudyModel(client, { model: 'openai/gpt-4o', signal: AbortSignal.timeout(1) })
  })
})

describe('fromAISDK', () => {
  it('takes ai 7’s providers (v4), ai 6’s (v3) and plain functions', () => {
    expectTypeOf(fromAISDK('anthropic', anthropic)).toHaveProperty('id')
    const openai3 = createOpenAI({ apiKey: 'k' })
    fromAISDK('openai3', openai3)
    fromAISDK('chat', (modelId: string) => openai3.chat(modelId))
  })
})
