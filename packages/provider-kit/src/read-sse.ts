import { UnderstudyError } from '@understudy/core'
import { createParser, type ParseError } from 'eventsource-parser'
import type { SseMessage } from './provider-spec.js'

/** Options of {@link readSse}. */
export interface ReadSseOptions {
  /**
   * The most characters one event (or one unfinished line) may hold before
   * the stream is given up as kind `server`: a server that never ends a line
   * must not fill the memory. @default 16 MiB (16_777_216)
   */
  readonly maxEventSize?: number | undefined
}

const defaultMaxEventSize = 16 * 1024 * 1024

/**
 * The Server-Sent Events of a `text/event-stream` body, in order, parsed by
 * `eventsource-parser`. Correct wherever the chunks split the bytes — inside
 * a line, a `\r\n` or a UTF-8 character (one streaming `TextDecoder` for
 * the whole body). Comments (`: keep-alive`) and `id:`/`retry:` fields are
 * skipped; several `data:` lines make one `data` joined with `\n`; an event
 * without `data:` is no message. Per the SSE standard, an event the body
 * ends before its blank line is dropped.
 *
 * Leaving the loop early (`break`, `return()`) returns `body`'s iterator,
 * which cancels the body and so closes the connection. Errors of `body` pass
 * through unchanged.
 *
 * @example
 * for await (const message of readSse(response.body)) {
 *   if (message.data === '[DONE]') break
 *   console.log(message.event, JSON.parse(message.data))
 * }
 */
export async function* readSse(
  body: AsyncIterable<Uint8Array>,
  options: ReadSseOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  const maxEventSize = options.maxEventSize ?? defaultMaxEventSize
  const decoder = new TextDecoder()
  let messages: SseMessage[] = []
  let overflow: ParseError | undefined
  const parser = createParser({
    onEvent: (event) => messages.push({ event: event.event, data: event.data }),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = error
    },
    maxBufferSize: maxEventSize,
  })
  const feed = (text: string): SseMessage[] => {
    parser.feed(text)
    if (overflow !== undefined) {
      throw new UnderstudyError({
        kind: 'server',
        message: `an SSE event exceeded ${maxEventSize} characters`,
        cause: overflow,
      })
    }
    const ready = messages
    messages = []
    return ready
  }
  let endsWithCR = false
  for await (const chunk of body) {
    // `stream: true` keeps a UTF-8 character split between chunks for the next one.
    const text = decoder.decode(chunk, { stream: true })
    if (text === '') continue
    endsWithCR = text.charCodeAt(text.length - 1) === 13
    yield* feed(text)
  }
  const rest = decoder.decode()
  if (rest !== '') {
    endsWithCR = rest.charCodeAt(rest.length - 1) === 13
    yield* feed(rest)
  }
  // The parser holds back a final `\r` in case a `\n` follows; at the end of the
  // body none will, so that `\r` ends its line (and perhaps the last event).
  if (endsWithCR) yield* feed('\n')
}
