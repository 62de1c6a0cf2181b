import type { FinishReason } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { fromAISDKFinishReason, toAISDKFinishReason } from './finish-reason.js'

const reasons: readonly FinishReason[] = ['stop', 'length', 'tool_calls', 'content_filter', 'other']

describe('finish reasons', () => {
  it('go to the AI SDK and back unchanged, keeping Understudy’s name as raw', () => {
    for (const reason of reasons) {
      const converted = toAISDKFinishReason(reason)
      expect(converted.raw).toBe(reason)
      expect(fromAISDKFinishReason(converted.unified)).toBe(reason)
    }
    expect(toAISDKFinishReason('tool_calls').unified).toBe('tool-calls')
  })

  it('reads the AI SDK’s error and V4’s interrupted as other', () => {
    expect(fromAISDKFinishReason('error')).toBe('other')
    expect(fromAISDKFinishReason('interrupted')).toBe('other')
  })
})
