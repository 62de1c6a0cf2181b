import type { ChatRequest } from '../chat-request.js'
import type { FinishReason } from '../chat-response.js'
import type { Clock } from '../clock.js'
import { type ErrorKind, UnderstudyError } from '../errors.js'
import type { Provider, ProviderContext } from '../provider.js'
import type { ProviderStreamEvent } from '../stream-event.js'

/** A typed failure of a scripted stream. */
export interface StreamFailure {
  readonly fail: ErrorKind
  readonly status?: number
  readonly retryAfterMs?: number
}

/** One event of a scripted stream: a text piece, or any event, optionally after `delayMs`. */
export type StreamChunk =
  | string
  | (ProviderStreamEvent & { readonly delayMs?: number })
  | { readonly wait: number }

/**
 * What one `stream()` attempt of a model does. `chunks` play in order, then
 * the stream ends as `end` says: `'finish'` (a finish event, the default),
 * `'none'` (the body ends without a terminal signal), `'hang'` (no more
 * events until aborted), or a failure on the next read. `throws` fails
 * `stream()` itself, before any iterable exists.
 */
export interface StreamScript {
  readonly chunks?: readonly StreamChunk[]
  readonly end?: 'finish' | 'none' | 'hang' | StreamFailure
  readonly finishReason?: FinishReason
  readonly throws?: unknown
}

/** One `stream()` call the mock received. */
export interface StreamCallRecord {
  readonly model: string
  readonly request: ChatRequest
  readonly apiKey: string | undefined
  /** When the call reached the provider, on the clock. */
  readonly at: number
  /** The context's signal aborted: the client cancelled the attempt. */
  aborted: boolean
  /** The stream ended before its script did (`return()` or abort): the connection closed early. */
  closedEarly: boolean
  /** Events the consumer pulled. */
  pulled: number
}

export interface StreamProvider extends Provider {
  readonly streams: StreamCallRecord[]
}

/**
 * A provider whose `stream()` plays a script per model: the n-th call of a
 * model plays `scripts[model][n]` (the last one repeats); a model without a
 * script streams `"<id>/<model> ok"`. Waits run on `clock`, and an abort cuts
 * them short, as a socket's close would. `complete()` is not scripted.
 */
export function streamProvider(
  id: string,
  scripts: Readonly<Record<string, readonly StreamScript[]>>,
  clock: Clock,
  options: { readonly assistantPrefix?: boolean } = {},
): StreamProvider {
  const streams: StreamCallRecord[] = []
  const counts = new Map<string, number>()

  const wait = (ms: number, context: ProviderContext): Promise<void> =>
    new Promise((resolve, reject) => {
      const signal = context.signal
      if (signal.aborted) {
        reject(new UnderstudyError({ kind: 'aborted', message: 'aborted' }))
        return
      }
      const onAbort = (): void => {
        if (timer !== undefined) clock.clearTimeout(timer)
        reject(new UnderstudyError({ kind: 'aborted', message: 'aborted' }))
      }
      const timer =
        ms === Infinity
          ? undefined
          : clock.setTimeout(() => {
              signal.removeEventListener('abort', onAbort)
              resolve()
            }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })

  async function* play(
    script: StreamScript,
    record: StreamCallRecord,
    context: ProviderContext,
  ): AsyncGenerator<ProviderStreamEvent> {
    let done = false
    try {
      for (const chunk of script.chunks ?? []) {
        if (typeof chunk === 'string') {
          record.pulled++
          yield { type: 'text', text: chunk }
          continue
        }
        if ('wait' in chunk) {
          await wait(chunk.wait, context)
          continue
        }
        const { delayMs, ...event } = chunk as ProviderStreamEvent & { delayMs?: number }
        if (delayMs !== undefined) await wait(delayMs, context)
        record.pulled++
        yield event as ProviderStreamEvent
      }
      const end = script.end ?? 'finish'
      if (end === 'hang') await wait(Infinity, context)
      if (typeof end === 'object') {
        throw new UnderstudyError({
          kind: end.fail,
          message: `${id}/${record.model} failed: ${end.fail}`,
          provider: id,
          model: record.model,
          status: end.status,
          retryAfterMs: end.retryAfterMs,
        })
      }
      if (end === 'finish') {
        const toolCall = script.chunks?.some(
          (chunk) =>
            typeof chunk === 'object' && 'type' in chunk && chunk.type === 'tool-call-delta',
        )
        record.pulled++
        yield {
          type: 'finish',
          finishReason: script.finishReason ?? (toolCall === true ? 'tool_calls' : 'stop'),
          usage: { inputTokens: 3, outputTokens: 5, totalTokens: 8 },
        }
      }
      done = true
    } finally {
      if (!done) record.closedEarly = true
    }
  }

  return {
    id,
    streams,
    ...(options.assistantPrefix !== undefined && { assistantPrefix: options.assistantPrefix }),
    complete() {
      return Promise.reject(new Error('streamProvider: complete() is not scripted'))
    },
    stream(request, context) {
      const record: StreamCallRecord = {
        model: request.model,
        request: structuredClone(request),
        apiKey: context.apiKey,
        at: clock.now(),
        aborted: false,
        closedEarly: false,
        pulled: 0,
      }
      streams.push(record)
      context.signal.addEventListener('abort', () => {
        record.aborted = true
      })
      const n = counts.get(request.model) ?? 0
      counts.set(request.model, n + 1)
      const list = scripts[request.model]
      const script = list?.[Math.min(n, list.length - 1)] ?? {
        chunks: [`${id}/${request.model} ok`],
      }
      if (script.throws !== undefined) throw script.throws
      return play(script, record, context)
    },
  }
}
