import type { ChatRequest } from '../chat-request.js'
import type { ProviderResponse } from '../chat-response.js'
import { type ErrorKind, UnderstudyError } from '../errors.js'
import type { Provider, ProviderContext } from '../provider.js'

/** What one attempt of a mock model does. */
export type Script =
  | {
      readonly ok: string
      readonly finishReason?: ProviderResponse['finishReason']
      readonly delayMs?: number
    }
  | {
      readonly fail: ErrorKind
      readonly status?: number
      readonly retryAfterMs?: number
      readonly delayMs?: number
      readonly message?: string
    }
  | { readonly throws: unknown }
  | { readonly hang: true }
  | {
      readonly respond: (
        request: ChatRequest,
        context: ProviderContext,
      ) => Promise<ProviderResponse>
    }

/** One call the mock received: a deep copy of the request and what the context carried. */
export interface ReceivedCall {
  readonly model: string
  readonly request: ChatRequest
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  aborted: boolean
}

export interface MockProvider extends Provider {
  readonly calls: ReceivedCall[]
}

/** A text answer as a provider would return it. */
export function textResponse(
  text: string,
  finishReason: ProviderResponse['finishReason'] = 'stop',
): ProviderResponse {
  return {
    text,
    message: { role: 'assistant', content: text },
    toolCalls: [],
    finishReason,
    usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
    status: 200,
  }
}

/**
 * A provider whose attempts follow a script per model: the n-th call of a
 * model plays `scripts[model][n]` (the last one repeats); a model without a
 * script answers `"<id>/<model> ok"`. Delays run on `clock`, so the test
 * controls time. Records every call.
 */
export function mockProvider(
  id: string,
  scripts: Readonly<Record<string, readonly Script[]>> = {},
  clock?: {
    setTimeout(callback: () => void, ms: number): unknown
    clearTimeout(handle: unknown): void
  },
): MockProvider {
  const calls: ReceivedCall[] = []
  const counts = new Map<string, number>()

  const wait = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (clock === undefined) throw new Error('mockProvider: a delay needs a clock')
      const onAbort = (): void => {
        clock.clearTimeout(timer)
        reject(new UnderstudyError({ kind: 'aborted', message: 'aborted' }))
      }
      const timer = clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })

  const provider: MockProvider = {
    id,
    calls,
    async complete(request, context) {
      const call: ReceivedCall = {
        model: request.model,
        request: structuredClone(request),
        apiKey: context.apiKey,
        baseURL: context.baseURL,
        headers: context.headers === undefined ? undefined : { ...context.headers },
        aborted: false,
      }
      calls.push(call)
      context.signal.addEventListener('abort', () => {
        call.aborted = true
      })
      const n = counts.get(request.model) ?? 0
      counts.set(request.model, n + 1)
      const list = scripts[request.model]
      const script: Script = list?.[Math.min(n, list.length - 1)] ?? {
        ok: `${id}/${request.model} ok`,
      }
      if ('hang' in script) {
        return new Promise<ProviderResponse>((_, reject) => {
          context.signal.addEventListener('abort', () =>
            reject(new UnderstudyError({ kind: 'aborted', message: 'aborted' })),
          )
        })
      }
      if ('throws' in script) throw script.throws
      if ('respond' in script) return script.respond(request, context)
      if (script.delayMs !== undefined && script.delayMs > 0)
        await wait(script.delayMs, context.signal)
      if ('fail' in script) {
        throw new UnderstudyError({
          kind: script.fail,
          message: script.message ?? `${id}/${request.model} failed: ${script.fail}`,
          provider: id,
          model: request.model,
          status: script.status,
          retryAfterMs: script.retryAfterMs,
        })
      }
      return textResponse(script.ok, script.finishReason)
    },
    stream() {
      throw new Error('mockProvider: streaming is not scripted in core tests')
    },
  }
  return provider
}
