import { describe, expect, it } from 'vitest'
import { toCallOptions } from './to-call-options.js'

const origin = { provider: 'vendor', model: 'm' }

describe('toCallOptions', () => {
  it('sends images as bytes, base64 with their media type, or URLs', () => {
    const bytes = new Uint8Array([1, 2, 3])
    const options = toCallOptions(
      {
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', image: bytes, mediaType: 'image/png' },
              { type: 'image', image: 'data:image/jpeg;base64,AAAA' },
              { type: 'image', image: 'https://example.test/cat.webp' },
            ],
          },
        ],
      },
      origin,
    )
    expect(options.prompt).toEqual([
      {
        role: 'user',
        content: [
          { type: 'file', mediaType: 'image/png', data: bytes },
          { type: 'file', mediaType: 'image/jpeg', data: 'AAAA' },
          { type: 'file', mediaType: 'image/*', data: new URL('https://example.test/cat.webp') },
        ],
      },
    ])
  })

  it('fails a request with `user` as unsupported, before any I/O', () => {
    expect(() =>
      toCallOptions(
        { model: 'm', messages: [{ role: 'user', content: 'hi' }], user: 'u-1' },
        origin,
      ),
    ).toThrow(expect.objectContaining({ kind: 'unsupported' }))
  })

  it('gives the model copies it may write without touching the request', () => {
    const parameters = { type: 'object', properties: {} }
    const options = toCallOptions(
      {
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ name: 't', parameters }],
        providerOptions: { vendor: { a: 1 } },
      },
      origin,
    )
    const tool = options.tools?.[0]
    expect(tool?.type === 'function' && tool.inputSchema).toEqual(parameters)
    expect(tool?.type === 'function' && tool.inputSchema).not.toBe(parameters)
    expect(options.providerOptions).toEqual({ vendor: { a: 1 } })
  })
})
