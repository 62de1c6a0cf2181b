import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '@understudy/core'
import type { RawReply } from './reply.js'

/** Options of {@link fixtureReply}. */
export interface FixtureReplyOptions {
  /**
   * The HTTP status to answer with.
   * @default the status in the file's name (`error-429-…`, `groq-400-…`), else 200
   */
  readonly status?: number
  /** Headers added to (and winning over) the recorded ones. */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Real ms before each event of a stream fixture (`.sse`, `.sse.txt`,
   * `.chunks.jsonl`), for slow streams. The bytes stay the same.
   * @default 0 (the whole body at once)
   */
  readonly chunkDelayMs?: number
}

/**
 * Recorded response headers a replay must not send: they describe the
 * original bytes and connection (a `content-length` of the original, a
 * `content-encoding: gzip` of a body stored decoded), not what the fake
 * server writes, and would make a client misread the body.
 */
const framingHeaders = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
])

/**
 * Loads a recorded response from a file as a {@link RawReply} a fake server
 * serves verbatim, so a client meets the real bytes:
 *
 * - `name.json`: a JSON body (checked to parse, served as written), with the
 *   status read from the file name (`error-<status>-…`, `<server>-<status>-…`)
 *   unless `options.status` gives one, else 200;
 * - `name.sse` / `name.sse.txt`: a `text/event-stream` body, verbatim;
 * - `name.chunks.jsonl`: one JSON chunk per line, each served as a
 *   `data: <line>` event (the recording kept no SSE framing, so none is added:
 *   no `[DONE]`).
 *
 * The sibling `name.headers.json`, when it exists, gives the response
 * headers (a header recorded as an array is joined with `, `), except those
 * that describe the original framing (`content-length`, `content-encoding`,
 * `transfer-encoding`, `connection`, `keep-alive`). A file that does not
 * exist or does not parse, or a headers file that is not an object of
 * strings, throws a `ConfigError` whose `path` is that file.
 *
 * @example
 * const fixtures = new URL('../fixtures/openai/', import.meta.url)
 * server.script('gpt-4o', fixtureReply(new URL('error-429-insufficient-quota.json', fixtures)))
 */
export function fixtureReply(file: string | URL, options: FixtureReplyOptions = {}): RawReply {
  const path = typeof file === 'string' ? file : fileURLToPath(file)
  const name = basename(path)
  const kind = kindOf(name)
  if (kind === undefined) {
    throw new ConfigError({
      path,
      message: 'expected a fixture file ending in .json, .sse, .sse.txt or .chunks.jsonl',
    })
  }
  if (kind.type === 'headers') {
    throw new ConfigError({
      path,
      message: `is a headers file; pass its body file (${kind.stem}.json, .sse, …), which loads it`,
    })
  }
  const status = checkStatus(options, path, kind)
  const chunkDelayMs = options.chunkDelayMs ?? 0
  if (!(chunkDelayMs >= 0) || !Number.isFinite(chunkDelayMs)) {
    throw new ConfigError({
      path,
      message: `chunkDelayMs: expected a number of ms >= 0, received ${chunkDelayMs}`,
    })
  }
  const text = readText(path)
  const headersPath = `${path.slice(0, path.length - name.length)}${kind.stem}.headers.json`
  const recorded = readHeaders(headersPath)

  let contentType: string
  let body: RawReply['raw']['body']
  switch (kind.type) {
    case 'json':
      parseJson(text, path)
      contentType = 'application/json'
      body = text
      break
    case 'sse':
      contentType = 'text/event-stream'
      body = chunkDelayMs > 0 ? splitEvents(text, chunkDelayMs) : text
      break
    case 'jsonl': {
      const events = text
        .split(/\r?\n/)
        .map((line, index) => ({ line, number: index + 1 }))
        .filter(({ line }) => line.trim() !== '')
        .map(({ line, number }) => {
          parseJson(line, path, number)
          return `data: ${line}\n\n`
        })
      contentType = 'text/event-stream'
      body =
        chunkDelayMs > 0 ? events.map((data) => ({ data, delayMs: chunkDelayMs })) : events.join('')
      break
    }
    default:
      kind satisfies never
      throw new Error('unreachable')
  }

  const headers: Record<string, string> = { 'content-type': contentType }
  for (const [header, value] of Object.entries(recorded ?? {})) {
    if (!framingHeaders.has(header.toLowerCase())) headers[header.toLowerCase()] = value
  }
  for (const [header, value] of Object.entries(options.headers ?? {}))
    headers[header.toLowerCase()] = value

  return Object.freeze({
    raw: Object.freeze({
      status,
      headers: Object.freeze(headers),
      body:
        typeof body === 'string' ? body : Object.freeze(body.map((piece) => Object.freeze(piece))),
    }),
  })
}

type FixtureKind =
  | { readonly type: 'json' | 'sse' | 'jsonl'; readonly stem: string }
  | { readonly type: 'headers'; readonly stem: string }

/** What a file holds, from how its name ends; `stem` is the name its headers file starts with. */
function kindOf(name: string): FixtureKind | undefined {
  const endings: readonly [string, FixtureKind['type']][] = [
    ['.headers.json', 'headers'],
    ['.chunks.jsonl', 'jsonl'],
    ['.sse.txt', 'sse'],
    ['.sse', 'sse'],
    ['.json', 'json'],
  ]
  for (const [ending, type] of endings) {
    if (name.endsWith(ending) && name.length > ending.length) {
      return { type, stem: name.slice(0, -ending.length) }
    }
  }
  return undefined
}

/** The status given in options, or read from the name's first or second segment, or 200. */
function checkStatus(options: FixtureReplyOptions, path: string, kind: FixtureKind): number {
  const { status } = options
  if (status !== undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new ConfigError({
        path,
        message: `status: expected an HTTP status (100-599), received ${status}`,
      })
    }
    return status
  }
  const match = /^(?:[a-z0-9]+-)?([1-5]\d\d)(?:[-.]|$)/i.exec(kind.stem)
  return match?.[1] === undefined ? 200 : Number(match[1])
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = Reflect.get(Object(error), 'code')
    throw new ConfigError({
      path,
      message:
        code === 'ENOENT'
          ? 'fixture file not found'
          : `cannot read the fixture file (${String(code ?? error)})`,
    })
  }
}

function parseJson(text: string, path: string, line?: number): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    const where = line === undefined ? '' : ` on line ${line}`
    throw new ConfigError({
      path,
      message: `the fixture's JSON${where} does not parse: ${error instanceof Error ? error.message : String(error)}`,
    })
  }
}

/** The recorded headers, arrays joined; `undefined` when there is no headers file. */
function readHeaders(path: string): Record<string, string> | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if (Reflect.get(Object(error), 'code') === 'ENOENT') return undefined
    throw new ConfigError({ path, message: `cannot read the headers file (${String(error)})` })
  }
  const parsed = parseJson(text, path)
  const invalid = (detail: string): ConfigError =>
    new ConfigError({
      path,
      message: `expected an object of header names to strings (or arrays of strings); ${detail}`,
    })
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(
      `received ${Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed}`,
    )
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string') headers[name] = value
    else if (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      headers[name] = value.join(', ')
    else
      throw invalid(
        `"${name}" is ${Array.isArray(value) ? 'an array with a non-string' : typeof value}`,
      )
  }
  return headers
}

/**
 * The stream's text cut after each event's blank line (`\n\n`, `\r\n\r\n`
 * or `\r\r`), each piece after `delayMs`. The pieces join back to the exact
 * bytes of the file.
 */
function splitEvents(text: string, delayMs: number): { data: string; delayMs: number }[] {
  const pieces: { data: string; delayMs: number }[] = []
  const boundary = /\r\n\r\n|\n\n|\r\r/g
  let start = 0
  for (let match = boundary.exec(text); match !== null; match = boundary.exec(text)) {
    const end = match.index + match[0].length
    pieces.push({ data: text.slice(start, end), delayMs })
    start = end
  }
  if (start < text.length) pieces.push({ data: text.slice(start), delayMs })
  return pieces
}
