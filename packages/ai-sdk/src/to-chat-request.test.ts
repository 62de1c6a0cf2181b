import { UnsupportedFunctionalityError } from '@ai-sdk/provider'
import { deepFreeze } from '@understudy/testkit'
import { describe, expect, it } from 'vitest'
import { toChatRequest } from './to-chat-request.js'

describe('toChatRequest', () => {
  it('carries images as bytes, base64 data URLs or URLs', () => {
    const bytes = new Uint8Array([137, 80, 78, 71])
    const { request } = toChatRequest('acme/large', {
      prompt: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'file', mediaType: 'image/png', data: bytes },
            { type: 'file', mediaType: 'image/jpeg', data: 'AAAA' },
            { type: 'file', mediaType: 'image/*', data: new URL('https://example.test/cat.webp') },
          ],
        },
      ],
    })
    expect(request.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', image: bytes, mediaType: 'image/png' },
          { type: 'image', image: 'data:image/jpeg;base64,AAAA' },
          { type: 'image', image: 'https://example.test/cat.webp' },
        ],
      },
    ])
  })

  it('refuses a file that is not an image with the AI SDK’s own error', () => {
    expect(() =>
      toChatRequest('acme/large', {
        prompt: [
          { role: 'user', content: [{ type: 'file', mediaType: 'application/pdf', data: 'JVBE' }] },
        ],
      }),
    ).toThrow(UnsupportedFunctionalityError)
  })

  it('turns each tool result into a tool message, whatever its output', () => {
    const { request } = toChatRequest('acme/large', {
      prompt: [
        {
          role: 'tool',
          content: [
            {
              type: 'tool-result',
              toolCallId: 'a',
              toolName: 't',
              output: { type: 'json', value: { ok: true } },
            },
            {
              type: 'tool-result',
              toolCallId: 'b',
              toolName: 't',
              output: { type: 'error-text', value: 'boom' },
            },
            {
              type: 'tool-result',
              toolCallId: 'c',
              toolName: 't',
              output: { type: 'execution-denied' },
            },
          ],
        },
      ],
    })
    expect(request.messages).toEqual([
      { role: 'tool', toolCallId: 'a', content: '{"ok":true}' },
      { role: 'tool', toolCallId: 'b', content: 'boom' },
      { role: 'tool', toolCallId: 'c', content: 'The tool call was denied.' },
    ])
  })

  it('warns of what it cannot carry and leaves the options unwritten', () => {
    const options = deepFreeze({
      prompt: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }],
      frequencyPenalty: 1,
      tools: [
        { type: 'provider' as const, id: 'openai.web_search' as const, name: 'search', args: {} },
      ],
      toolChoice: { type: 'tool' as const, toolName: 'search' },
      responseFormat: { type: 'json' as const },
    })
    const { request, warnings } = toChatRequest('acme/large', options)
    expect(warnings).toEqual([
      { type: 'unsupported', feature: 'frequencyPenalty' },
      { type: 'unsupported', feature: 'provider-defined tool openai.web_search' },
    ])
    expect(request).toEqual({
      model: 'acme/large',
      messages: [{ role: 'user', content: 'hi' }],
      responseFormat: { type: 'json' },
    })
  })
})
