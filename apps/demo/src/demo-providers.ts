import {
  type ChatRequest,
  type Provider,
  type ProviderContext,
  type ProviderResponse,
  UnderstudyError,
} from '@understudy/core'

/** What an in-process vendor saw of one request: the model and the key it came with. */
export interface SeenRequest {
  readonly model: string
  readonly apiKey: string | undefined
}

/** An in-process stand-in for a vendor's API, with the log of what it received. */
export interface DemoProvider extends Provider {
  readonly seen: readonly SeenRequest[]
}

/**
 * A vendor whose models in `down` answer 503 `overloaded` and whose other
 * models answer with a short text, after `latencyMs` of (real) time.
 */
export function demoProvider(
  id: string,
  { down = [], latencyMs = 5 }: { down?: readonly string[]; latencyMs?: number } = {},
): DemoProvider {
  const seen: SeenRequest[] = []
  return {
    id,
    seen,
    async complete(request: ChatRequest, context: ProviderContext): Promise<ProviderResponse> {
      seen.push({ model: request.model, apiKey: context.apiKey })
      await delay(latencyMs, context.signal)
      if (down.includes(request.model)) {
        throw new UnderstudyError({
          kind: 'overloaded',
          message: `${id}/${request.model} is overloaded`,
          provider: id,
          model: request.model,
          status: 503,
        })
      }
      const last = request.messages[request.messages.length - 1]
      const question = typeof last?.content === 'string' ? last.content : '…'
      const text = `${id}/${request.model} answers: "${question}" — here you are.`
      return {
        text,
        message: { role: 'assistant', content: text },
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 12, outputTokens: 9, totalTokens: 21 },
        status: 200,
      }
    },
    stream() {
      throw new UnderstudyError({
        kind: 'unsupported',
        message: `${id} does not stream in the demo`,
      })
    },
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new UnderstudyError({ kind: 'aborted', message: 'aborted' }))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
