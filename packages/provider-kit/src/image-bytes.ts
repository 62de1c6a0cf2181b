/**
 * Base64 of `bytes`, as vendors take an image given as bytes (in a `data:`
 * URL, or a base64 source): Node's `Buffer` where there is one, `btoa` in
 * other runtimes.
 */
export function toBase64(bytes: Uint8Array): string {
  if (typeof Buffer !== 'undefined') {
    // A view on the same memory: no copy of the image before encoding.
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  }
  let binary = ''
  // In slices: spreading a whole large image into one call would overflow the stack.
  for (let start = 0; start < bytes.length; start += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(start, start + 0x8000))
  }
  return btoa(binary)
}

/**
 * The media type of PNG, JPEG, GIF and WebP bytes, from their signatures;
 * `undefined` for anything else (the caller must then say the type).
 */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...signature: number[]): boolean =>
    signature.every((byte, index) => bytes[index] === byte)
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png'
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg'
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif'
  // RIFF....WEBP
  const webp = [0x57, 0x45, 0x42, 0x50].every((byte, index) => bytes[8 + index] === byte)
  if (starts(0x52, 0x49, 0x46, 0x46) && webp) return 'image/webp'
  return undefined
}
