import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { replayableState, stateOrigin } from './provider-state.js'

const parts = fc.record({
  provider: fc.constantFrom('anthropic', 'google'),
  model: fc.constantFrom('m1', 'm2'),
  baseURL: fc.constantFrom('https://a.example', 'https://b.example'),
  apiKey: fc.constantFrom(undefined, 'sk-one-1234567890', 'sk-two-1234567890'),
})

describe('provider state', () => {
  test.prop([parts, parts])(
    'is replayed only to the provider, model, base URL and key that wrote it',
    (writer, reader) => {
      const state = { provider: writer.provider, origin: stateOrigin(writer), data: ['sig'] }
      const same =
        writer.provider === reader.provider &&
        writer.model === reader.model &&
        writer.baseURL === reader.baseURL &&
        writer.apiKey === reader.apiKey
      expect(replayableState(state, stateOrigin(reader))).toEqual(same ? ['sig'] : undefined)
    },
  )

  it('keeps the key and the base URL out of the origin', () => {
    const origin = stateOrigin({
      provider: 'google',
      model: 'gemini-2.5-flash',
      baseURL: 'https://internal.example/v1beta',
      apiKey: 'AIza-secret-key-123456',
    })
    expect(origin).toMatch(/^google\/gemini-2\.5-flash@[0-9a-f]+$/)
    expect(origin).not.toContain('secret')
    expect(origin).not.toContain('internal')
  })

  it('replays nothing when the turn has no state', () => {
    expect(replayableState(undefined, 'google/m@1')).toBeUndefined()
  })
})
