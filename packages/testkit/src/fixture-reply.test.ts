import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '@understudy/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Dialect } from './dialect.js'
import { startFakeServer } from './fake-server.js'
import { fixtureReply } from './fixture-reply.js'

const fixtures = new URL('../../../fixtures/', import.meta.url)
const fixture = (name: string): URL => new URL(name, fixtures)
const textOf = (name: string): string => readFileSync(fixture(name), 'utf8')

/** A directory of files written by the test, removed when it ends. */
function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fixture-reply-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

function configErrorOf(make: () => unknown): ConfigError {
  try {
    make()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

/** The least dialect that routes every POST to model "m": enough to serve raw replies. */
const plainDialect: Dialect = {
  name: 'plain',
  route: (request) => (request.method === 'POST' ? { model: 'm', stream: false } : undefined),
  answer: () => ({}),
  stream: () => ({ events: [], terminalEvents: 0 }),
  errorBody: () => ({}),
  inBandError: () => ({ data: '{}' }),
  responseHeaders: () => ({}),
}

describe('fixtureReply', () => {
  describe('a .json body', () => {
    it('reads the status from an error-<status>-… name and the headers from its sibling file', () => {
      const reply = fixtureReply(fixture('openai/error-404-model-not-found.json'))
      expect(reply.raw.status).toBe(404)
      expect(reply.raw.body).toBe(textOf('openai/error-404-model-not-found.json'))
      expect(reply.raw.headers).toEqual({
        'access-control-expose-headers': 'CF-Ray, CF-Ray',
        'alt-svc': 'h3=":443"; ma=86400',
        'content-type': 'application/json; charset=utf-8',
        'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
        vary: 'Origin',
      })
    })

    it('reads the status of a <server>-<status>-… name too', () => {
      expect(fixtureReply(fixture('other/groq-400-context-length.json')).raw.status).toBe(400)
      expect(
        fixtureReply(fixture('other/openrouter-429-provider-rate-limited.json')).raw.status,
      ).toBe(429)
      expect(fixtureReply(fixture('anthropic/error-529-overloaded.json')).raw.status).toBe(529)
    })

    it('answers 200 with application/json when the name has no status and there is no headers file', () => {
      const reply = fixtureReply(fixture('openai/chat-completion-text.json'))
      expect(reply.raw).toEqual({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: textOf('openai/chat-completion-text.json'),
      })
    })

    it('drops recorded framing headers that describe the original bytes (gzip, length, chunking)', () => {
      const headers = fixtureReply(fixture('gemini/generate-content-text.json')).raw.headers ?? {}
      expect(headers['x-gemini-service-tier']).toBe('standard')
      expect(headers['content-type']).toBe('application/json; charset=UTF-8')
      for (const name of [
        'content-encoding',
        'content-length',
        'transfer-encoding',
        'connection',
      ]) {
        expect(headers).not.toHaveProperty(name)
      }
    })

    it('takes the status and extra headers from options, over the name and the file', () => {
      const reply = fixtureReply(fixture('anthropic/error-429-rate-limit.json'), {
        status: 503,
        headers: { 'Retry-After': '2', 'x-extra': 'yes' },
      })
      expect(reply.raw.status).toBe(503)
      expect(reply.raw.headers).toMatchObject({ 'retry-after': '2', 'x-extra': 'yes' })
    })

    it('accepts a string path', () => {
      const path = fileURLToPath(fixture('azure/error-401-invalid-key.json'))
      const reply = fixtureReply(path)
      expect(reply.raw.status).toBe(401)
      expect(reply.raw.headers).toEqual({
        'apim-request-id': 'REDACTED',
        date: 'Tue, 02 Apr 2024 16:22:56 GMT',
        'content-type': 'application/json',
      })
    })
  })

  describe('a stream', () => {
    it('serves a .sse file verbatim as text/event-stream, with its headers file', () => {
      const reply = fixtureReply(fixture('gemini/stream-text.sse'))
      expect(reply.raw.status).toBe(200)
      expect(reply.raw.body).toBe(textOf('gemini/stream-text.sse'))
      expect(reply.raw.body).toContain('\r\n\r\n')
      expect(reply.raw.headers).toMatchObject({
        'content-type': 'text/event-stream',
        'content-disposition': 'attachment',
      })
    })

    it('serves a .sse file without a headers file as text/event-stream', () => {
      const reply = fixtureReply(fixture('openai/stream-parallel-tool-calls.sse'))
      expect(reply.raw.headers).toEqual({ 'content-type': 'text/event-stream' })
      expect(reply.raw.body).toBe(textOf('openai/stream-parallel-tool-calls.sse'))
    })

    it('serves a .sse.txt file and its name.headers.json the same way', () => {
      const dir = tempFiles({
        'slow.sse.txt': 'data: {"a":1}\n\ndata: [DONE]\n\n',
        'slow.headers.json': '{"x-request-id":"req_1"}',
      })
      const reply = fixtureReply(join(dir, 'slow.sse.txt'))
      expect(reply.raw).toEqual({
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' },
        body: 'data: {"a":1}\n\ndata: [DONE]\n\n',
      })
    })

    it('cuts a stream into its events after chunkDelayMs, keeping every byte', () => {
      const text = textOf('anthropic/stream-text.sse')
      const reply = fixtureReply(fixture('anthropic/stream-text.sse'), { chunkDelayMs: 5 })
      const pieces = reply.raw.body as readonly { data: string; delayMs?: number }[]
      expect(pieces.length).toBe(text.split('\n\n').filter((event) => event.trim() !== '').length)
      expect(pieces.map((piece) => piece.data).join('')).toBe(text)
      expect(pieces.every((piece) => piece.delayMs === 5)).toBe(true)
      expect(pieces[0]?.data.startsWith('event: message_start')).toBe(true)
    })

    it('serves a .chunks.jsonl file as one data: event per line', () => {
      const lines = textOf('azure/stream-model-router-with-filter-results.chunks.jsonl')
        .split('\n')
        .filter((line) => line !== '')
      const reply = fixtureReply(
        fixture('azure/stream-model-router-with-filter-results.chunks.jsonl'),
      )
      expect(reply.raw.status).toBe(200)
      expect(reply.raw.headers).toEqual({ 'content-type': 'text/event-stream' })
      expect(reply.raw.body).toBe(lines.map((line) => `data: ${line}\n\n`).join(''))
      expect(lines).toHaveLength(8)
      expect(JSON.parse(lines[0] ?? '')).toHaveProperty('prompt_filter_results')
    })
  })

  it('is served byte for byte by a fake server', async () => {
    const server = await startFakeServer(plainDialect)
    onTestFinished(() => server.close())
    server.script(
      'm',
      fixtureReply(fixture('openai/error-404-model-not-found.json')),
      fixtureReply(fixture('gemini/stream-text.sse')),
    )

    const error = await fetch(`${server.url}/any`, { method: 'POST', body: '{}' })
    expect(error.status).toBe(404)
    expect(error.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(error.headers.get('vary')).toBe('Origin')
    expect(await error.text()).toBe(textOf('openai/error-404-model-not-found.json'))

    const stream = await fetch(`${server.url}/any`, { method: 'POST', body: '{}' })
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    expect(await stream.text()).toBe(textOf('gemini/stream-text.sse'))
  })

  describe('bad input', () => {
    it('names a file that does not exist', () => {
      const dir = tempFiles({})
      const path = join(dir, 'error-429-missing.json')
      const error = configErrorOf(() => fixtureReply(path))
      expect(error.kind).toBe('config')
      expect(error.path).toBe(path)
      expect(error.message).toBe(`${path}: fixture file not found`)
    })

    it('names a JSON body that does not parse', () => {
      const dir = tempFiles({ 'broken.json': '{"error": {' })
      const error = configErrorOf(() => fixtureReply(join(dir, 'broken.json')))
      expect(error.path).toBe(join(dir, 'broken.json'))
      expect(error.message).toMatch(/the fixture's JSON does not parse/)
    })

    it('names the line of a .chunks.jsonl file that does not parse', () => {
      const dir = tempFiles({ 'bad.chunks.jsonl': '{"a":1}\n\n{"b":\n' })
      const error = configErrorOf(() => fixtureReply(join(dir, 'bad.chunks.jsonl')))
      expect(error.path).toBe(join(dir, 'bad.chunks.jsonl'))
      expect(error.message).toMatch(/JSON on line 3 does not parse/)
    })

    it.each([
      ['an array', '["content-type"]', /received an array/],
      ['a number value', '{"retry-after": 16}', /"retry-after" is number/],
      [
        'an array with a non-string',
        '{"vary": ["Origin", 1]}',
        /"vary" is an array with a non-string/,
      ],
      ['not JSON', '{content-type: x}', /does not parse/],
    ])('names a headers file that is %s', (_, text, message) => {
      const dir = tempFiles({ 'error-500-x.json': '{}', 'error-500-x.headers.json': text })
      const error = configErrorOf(() => fixtureReply(join(dir, 'error-500-x.json')))
      expect(error.path).toBe(join(dir, 'error-500-x.headers.json'))
      expect(error.message).toMatch(message)
    })

    it('refuses a headers file, a file of unknown kind and an impossible status', () => {
      const dir = tempFiles({ 'a.headers.json': '{}', 'a.txt': 'x', 'a.json': '{}' })
      expect(configErrorOf(() => fixtureReply(join(dir, 'a.headers.json'))).message).toMatch(
        /is a headers file/,
      )
      expect(configErrorOf(() => fixtureReply(join(dir, 'a.txt'))).message).toMatch(
        /expected a fixture file ending in/,
      )
      expect(
        configErrorOf(() => fixtureReply(join(dir, 'a.json'), { status: 42 })).message,
      ).toMatch(/status: expected an HTTP status/)
      expect(
        configErrorOf(() => fixtureReply(join(dir, 'a.json'), { chunkDelayMs: -1 })).message,
      ).toMatch(/chunkDelayMs/)
    })
  })
})
