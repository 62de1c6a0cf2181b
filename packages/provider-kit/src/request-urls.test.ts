import { describe, expect, it } from 'vitest'
import { RequestURLs } from './request-urls.js'

describe('RequestURLs', () => {
  it('joins a base URL and a path with one slash, whether the path has its own or not', () => {
    const urls = new RequestURLs()
    expect(urls.join('https://api.example.com/v1', '/chat/completions')).toBe(
      'https://api.example.com/v1/chat/completions',
    )
    expect(urls.join('https://api.example.com/v1', 'models/x:generateContent?alt=sse')).toBe(
      'https://api.example.com/v1/models/x:generateContent?alt=sse',
    )
  })

  it('keeps each base URL apart', () => {
    const urls = new RequestURLs()
    expect(urls.join('https://a.example/v1', '/messages')).toBe('https://a.example/v1/messages')
    expect(urls.join('https://b.example/v1', '/messages')).toBe('https://b.example/v1/messages')
    expect(urls.join('https://a.example/v1', '/messages')).toBe('https://a.example/v1/messages')
  })

  it('joins right past its bound, for new and remembered URLs alike', () => {
    const urls = new RequestURLs()
    for (let i = 0; i < 1_000; i++) {
      const base = `https://host${i % 7}.example/v1`
      expect(urls.join(base, `/models/m${i}`)).toBe(`${base}/models/m${i}`)
      expect(urls.join(base, '/messages')).toBe(`${base}/messages`)
    }
  })
})
