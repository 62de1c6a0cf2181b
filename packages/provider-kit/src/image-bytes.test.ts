import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { sniffImageType, toBase64 } from './image-bytes.js'

describe('toBase64', () => {
  test.prop([fc.uint8Array({ maxLength: 70_000 })])('encodes as btoa would', (bytes) => {
    let binary = ''
    for (const byte of bytes) binary += String.fromCharCode(byte)
    expect(toBase64(bytes)).toBe(btoa(binary))
  })

  it('encodes only the view, not the whole buffer behind it', () => {
    const buffer = new Uint8Array([1, 2, 3, 4, 5])
    expect(toBase64(buffer.subarray(1, 3))).toBe(Buffer.from([2, 3]).toString('base64'))
  })
})

describe('sniffImageType', () => {
  it.each([
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a], 'image/png'],
    [[0xff, 0xd8, 0xff, 0xe0], 'image/jpeg'],
    [[0x47, 0x49, 0x46, 0x38, 0x39, 0x61], 'image/gif'],
    [[0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50], 'image/webp'],
    [[0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45], undefined],
    [[0x25, 0x50, 0x44, 0x46], undefined],
  ])('reads %j as %s', (bytes, type) => {
    expect(sniffImageType(new Uint8Array(bytes))).toBe(type)
  })
})
