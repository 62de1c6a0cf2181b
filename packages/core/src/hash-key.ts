/**
 * A 53-bit hash of an API key (cyrb53), so the health store can tell two
 * keys apart without holding either. Not for security: a key's own entropy
 * is what keeps it secret, and 53 bits cannot give it back.
 */
export function hashKey(key: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i)
    h1 = Math.imul(h1 ^ code, 2654435761)
    h2 = Math.imul(h2 ^ code, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  // Two 32-bit halves in hex: much faster than one 53-bit number in base 36.
  return (h2 & 2097151).toString(16) + (h1 >>> 0).toString(16).padStart(8, '0')
}
