import { UnderstudyError } from '@understudy/core'
import { createParser, type EventSourceMessage, type ParseError } from 'eventsource-parser'
import type { SseMessage } from './provider-spec.js'
import { createUtf8Decoder } from './utf8-decoder.js'

/** Options of {@link createSseDecoder} and `readSse`. */
export interface ReadSseOptions {
  /**
   * The most characters one event (or one unfinished line) may hold before
   * the stream is given up as kind `server`: a server that never ends a line
   * must not fill the memory. @default 16 MiB (16_777_216)
   */
  readonly maxEventSize?: number | undefined
}

/** Bytes in, Server-Sent Events out, through the callback given to {@link createSseDecoder}. */
export interface SseDecoder {
  /** Decodes one chunk of the body; throws kind `server` when an event outgrows `maxEventSize`. */
  push(bytes: Uint8Array): void
  /** The body ended: flushes what the last chunk held back. */
  end(): void
}

const defaultMaxEventSize = 16 * 1024 * 1024

/**
 * The push-style SSE reader under `readSse` and `defineProvider`'s streams:
 * one streaming UTF-8 decoder (a character split between chunks waits for
 * the next one; see ./utf8-decoder.ts) and `eventsource-parser`, calling `onMessage` for each
 * event with `data:`, in order, from inside `push`. What `onMessage` throws
 * leaves `push` as it is, and the decoder must not be fed again.
 *
 * The message handed over is `eventsource-parser`'s own object: it always
 * has an `event` key (which may hold `undefined`) and also an `id`; a
 * caller that shows messages to users copies the two fields it documents.
 */
export function createSseDecoder(
  onMessage: (message: SseMessage) => void,
  options: ReadSseOptions = {},
): SseDecoder {
  const maxEventSize = options.maxEventSize ?? defaultMaxEventSize
  const decoder = createUtf8Decoder()
  let overflow: ParseError | undefined
  const parser = createParser({
    // Sound: eventsource-parser sets `event` on every message it makes (see above).
    onEvent: onMessage as (message: EventSourceMessage) => void,
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = error
    },
    maxBufferSize: maxEventSize,
  })
  let endsWithCR = false
  const feed = (text: string): void => {
    endsWithCR = text.charCodeAt(text.length - 1) === 13
    parser.feed(text)
    if (overflow !== undefined) {
      throw new UnderstudyError({
        kind: 'server',
        message: `an SSE event exceeded ${maxEventSize} characters`,
        cause: overflow,
      })
    }
  }
  return {
    push(bytes) {
      const text = decoder.decode(bytes)
      if (text !== '') feed(text)
    },
    end() {
      const rest = decoder.end()
      if (rest !== '') feed(rest)
      // The parser holds back a final `\r` in case a `\n` follows; at the end of the
      // body none will, so that `\r` ends its line (and perhaps the last event).
      if (endsWithCR) feed('\n')
    },
  }
}
