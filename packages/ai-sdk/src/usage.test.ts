import { describe, expect, it } from 'vitest'
import { fromAISDKUsage, toAISDKUsage } from './usage.js'

describe('usage', () => {
  it('splits cached input and reasoning output off as the AI SDK counts them', () => {
    expect(
      toAISDKUsage({
        inputTokens: 100,
        outputTokens: 30,
        cachedInputTokens: 60,
        cacheWriteInputTokens: 10,
        reasoningTokens: 20,
      }),
    ).toEqual({
      inputTokens: { total: 100, noCache: 30, cacheRead: 60, cacheWrite: 10 },
      outputTokens: { total: 30, text: 10, reasoning: 20 },
    })
  })

  it('leaves unknown counts unknown', () => {
    expect(toAISDKUsage({})).toEqual({
      inputTokens: {
        total: undefined,
        noCache: undefined,
        cacheRead: undefined,
        cacheWrite: undefined,
      },
      outputTokens: { total: undefined, text: undefined, reasoning: undefined },
    })
    expect(fromAISDKUsage(undefined)).toEqual({})
  })

  it('reads back only what the AI SDK model reported, with a total', () => {
    expect(
      fromAISDKUsage({
        inputTokens: { total: 100, noCache: 40, cacheRead: 60, cacheWrite: undefined },
        outputTokens: { total: 30, text: 10, reasoning: 20 },
      }),
    ).toEqual({
      inputTokens: 100,
      outputTokens: 30,
      totalTokens: 130,
      cachedInputTokens: 60,
      reasoningTokens: 20,
    })
  })
})
