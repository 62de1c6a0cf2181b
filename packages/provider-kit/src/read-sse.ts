import type { SseMessage } from './provider-spec.js'
import { createSseDecoder, type ReadSseOptions } from './sse-decoder.js'

/**
 * The Server-Sent Events of a `text/event-stream` body, in order, parsed by
 * `eventsource-parser`. Correct wherever the chunks split the bytes — inside
 * a line, a `\r\n` or a UTF-8 character (one streaming UTF-8 decoder for
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
  let messages: SseMessage[] = []
  const decoder = createSseDecoder(
    // A copy: the decoder's message also carries the `id` this API does not promise.
    (message) => messages.push({ event: message.event, data: message.data }),
    options,
  )
  const take = (): SseMessage[] => {
    const ready = messages
    messages = []
    return ready
  }
  for await (const chunk of body) {
    decoder.push(chunk)
    if (messages.length > 0) yield* take()
  }
  decoder.end()
  yield* take()
}
