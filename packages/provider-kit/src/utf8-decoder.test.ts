import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { completeLength, createUtf8Decoder } from './utf8-decoder.js'

const encoder = new TextEncoder()

/** `bytes` cut at `cuts` (positions in any order, any number). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const pieces: Uint8Array[] = []
  let from = 0
  for (const point of points) {
    pieces.push(bytes.subarray(from, point))
    from = point
  }
  pieces.push(bytes.subarray(from))
  return pieces
}

function decodeAll(pieces: readonly Uint8Array[]): string {
  const decoder = createUtf8Decoder()
  let text = ''
  for (const piece of pieces) text += decoder.decode(piece)
  return text + decoder.end()
}

/** Node's own pieces are Buffers: the decoder takes both. */
function asBuffers(pieces: readonly Uint8Array[]): Uint8Array[] {
  return pieces.map((piece) => Buffer.from(piece))
}

describe('createUtf8Decoder', () => {
  test.prop([fc.string({ unit: 'binary' }), fc.array(fc.nat(), { maxLength: 12 })], {
    numRuns: 2_000,
  })('gives back any text however its bytes are cut', (text, cuts) => {
    const pieces = split(encoder.encode(text), cuts)
    expect(decodeAll(pieces)).toBe(text.startsWith('\ufeff') ? text.slice(1) : text)
    expect(decodeAll(asBuffers(pieces))).toBe(decodeAll(pieces))
  })

  test.prop([fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 12 })], {
    numRuns: 3_000,
  })('decodes any bytes, cut anywhere, as TextDecoder decodes them whole', (bytes, cuts) => {
    expect(decodeAll(split(bytes, cuts))).toBe(new TextDecoder().decode(bytes))
  })

  it('holds back a character split between chunks until its last byte comes', () => {
    const decoder = createUtf8Decoder()
    const euro = encoder.encode('€') // e2 82 ac
    expect(decoder.decode(euro.subarray(0, 1))).toBe('')
    expect(decoder.decode(euro.subarray(1, 2))).toBe('')
    expect(decoder.decode(euro.subarray(2))).toBe('€')
    expect(decoder.end()).toBe('')
  })

  it('ends an unfinished last character as one U+FFFD, as TextDecoder does', () => {
    const decoder = createUtf8Decoder()
    expect(decoder.decode(encoder.encode('ok 😀').subarray(0, 5))).toBe('ok ')
    expect(decoder.end()).toBe('\ufffd')
  })

  it('drops a byte order mark at the start only, even when it is split', () => {
    const decoder = createUtf8Decoder()
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf)
    expect(decoder.decode(bom.subarray(0, 2))).toBe('')
    expect(decoder.decode(Uint8Array.of(0xbf, 0x61))).toBe('a')
    expect(decoder.decode(Uint8Array.of(...bom, 0x62))).toBe('\ufeffb')
  })
})

describe('completeLength', () => {
  it('cuts before an unfinished two-, three- or four-byte sequence, and nowhere else', () => {
    expect(completeLength(Uint8Array.of(0x61, 0xc3))).toBe(1)
    expect(completeLength(Uint8Array.of(0x61, 0xe2, 0x82))).toBe(1)
    expect(completeLength(Uint8Array.of(0x61, 0xf0, 0x9f, 0x98))).toBe(1)
    expect(completeLength(Uint8Array.of(0x61, 0xe2, 0x82, 0xac))).toBe(4)
    expect(completeLength(Uint8Array.of(0x61, 0x80))).toBe(2)
    expect(completeLength(Uint8Array.of(0x61, 0xff))).toBe(2)
  })
})
