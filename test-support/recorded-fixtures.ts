/**
 * @module Reads the repository's recorded real responses (`fixtures/`, never
 * edited) for the provider packages' tests: one reader, so every dialect's
 * tests list, read and split the recordings the same way. Each package's
 * `src/test-support/recorded.ts` names its own folders.
 */
import { readdirSync, readFileSync } from 'node:fs'

const fixtures = new URL('../fixtures/', import.meta.url)

/** An SSE message as a transport hands it to a parser (provider-kit's `SseMessage`). */
export interface RecordedSseMessage {
  readonly event: string | undefined
  readonly data: string
}

/** The recorded bodies in `dirs`, as `dir/name`: every file but the header dumps. */
export function recordedBodiesIn(dirs: readonly string[]): readonly string[] {
  return dirs.flatMap((dir) =>
    readdirSync(new URL(`${dir}/`, fixtures))
      .filter((name) => !name.includes('headers'))
      .map((name) => `${dir}/${name}`),
  )
}

/** The text of a recorded file, `dir/name`. */
export function readRecorded(file: string): string {
  return readFileSync(new URL(file, fixtures), 'utf8')
}

/** A recorded JSON body, `dir/name.json`. */
export function readRecordedJson(file: string): unknown {
  return JSON.parse(readRecorded(file))
}

/** A recorded header dump, `dir/name.headers.json`. */
export function readRecordedHeaders(file: string): Readonly<Record<string, string>> {
  return JSON.parse(readRecorded(file)) as Record<string, string>
}

/** The HTTP status in a recorded file's name (`error-429-…`, `groq-400-…`), else 200. */
export function recordedStatus(file: string): number {
  const match = /(?:^|\/|-)([1-5]\d\d)-/.exec(file)
  return match === null ? 200 : Number(match[1])
}

/**
 * The SSE messages of a recorded stream, as the transport hands them to a
 * parser: `.sse` files split per the SSE rules the fixtures use (events end
 * at a blank line, `:` lines are comments, `event:` and `data:` fields), and
 * `.chunks.jsonl` (no framing recorded) as one `data:` message per line.
 */
export function readRecordedStream(file: string): RecordedSseMessage[] {
  const text = readRecorded(file)
  if (file.endsWith('.chunks.jsonl')) {
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((data) => ({ event: undefined, data }))
  }
  return splitSse(text)
}

/** Splits an SSE body into messages; enough for whole recorded files, not for a live byte stream. */
export function splitSse(text: string): RecordedSseMessage[] {
  const messages: RecordedSseMessage[] = []
  let event: string | undefined
  let data: string[] = []
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length > 0) messages.push({ event, data: data.join('\n') })
      event = undefined
      data = []
    } else if (!line.startsWith(':')) {
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'data') data.push(value)
      else if (field === 'event') event = value
    }
  }
  return messages
}
