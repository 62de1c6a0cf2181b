import { readdirSync, readFileSync } from 'node:fs'
import type { SseMessage } from '@understudy/provider-kit'

/** The repository's recorded real responses (`fixtures/`), never edited. */
const fixtures = new URL('../../../../fixtures/', import.meta.url)

/** The recorded bodies of the Gemini dialect, as `dir/name`: every file but the header dumps. */
export function recordedBodies(): readonly string[] {
  return ['gemini'].flatMap((dir) =>
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

/** The HTTP status in a recorded file's name (`error-429-…`), else 200. */
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
export function readRecordedStream(file: string): SseMessage[] {
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
export function splitSse(text: string): SseMessage[] {
  const messages: SseMessage[] = []
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
