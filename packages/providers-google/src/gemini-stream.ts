import { type ProviderStreamEvent, UnderstudyError } from '@understudy/core'
import type { SseMessage, StreamParser } from '@understudy/provider-kit'
import { type AnswerOrigin, GeminiAnswer } from './gemini-answer.js'

const none: readonly ProviderStreamEvent[] = Object.freeze([])

/**
 * A fresh parser of one attempt's `streamGenerateContent?alt=sse` body into
 * stream events. Each SSE `data:` is a whole `GenerateContentResponse`:
 * text parts → `text`, `thought: true` parts → `reasoning`, each
 * `functionCall` (Gemini sends a call whole, never in pieces) → one
 * `tool-call-delta` with its id, name and all its arguments. Empty pieces
 * are no event.
 *
 * There is no `[DONE]`: the terminal signal is a candidate with a
 * `finishReason`, then the end of the body. `end()` yields the one
 * `finish` (the last usage reported, the thought signatures as
 * `providerState`); a body that ends without a `finishReason` throws kind
 * `incomplete` — never a synthesized `stop`. An `{ error: … }` event throws,
 * classified like the HTTP error it names; a blocked prompt throws kind
 * `content_policy`; an event that is not JSON or not a response, kind `server`.
 */
export function createGeminiStreamParser(origin: AnswerOrigin): StreamParser {
  const answer = new GeminiAnswer(origin)
  let ended = false
  return {
    push(message: SseMessage): readonly ProviderStreamEvent[] {
      if (ended) return none
      const data = message.data
      // A keep-alive with nothing in it; `trim()` only when it may be one, not a copy of every event.
      if (data === '' || (data.charCodeAt(0) <= 32 && data.trim() === '')) return none
      const events: ProviderStreamEvent[] = []
      answer.add(parseJson(data), events)
      return events.length === 0 ? none : events
    },
    end(): readonly ProviderStreamEvent[] {
      if (ended) return none
      ended = true
      if (answer.finishReason === undefined) {
        throw new UnderstudyError({
          kind: 'incomplete',
          message: 'the stream ended without a finishReason',
        })
      }
      const providerState = answer.providerState()
      return [
        providerState === undefined
          ? { type: 'finish', finishReason: answer.finish(), usage: answer.usage() }
          : { type: 'finish', finishReason: answer.finish(), usage: answer.usage(), providerState },
      ]
    },
  }
}

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    throw new UnderstudyError({
      kind: 'server',
      message: 'the upstream sent a stream event that is not JSON',
    })
  }
}
