import { type ChatResponse, createClient, type Target } from '@understudy/core'
import { groq, openai } from '@understudy/providers-openai'
import { deepFreeze, type Reply, startFakeOpenAI } from '@understudy/testkit'

/** One call of the scenario and how it went. */
export interface CallReport {
  readonly label: string
  readonly response: ChatResponse
}

/** The credential each fake vendor received, request by request. */
export type SeenKeys = Readonly<Record<string, readonly string[]>>

/** Everything one run of the scenario did, for printing or checking. */
export interface ScenarioReport {
  readonly title: string
  readonly fallbacks: readonly Target[]
  readonly calls: readonly CallReport[]
  readonly unchanged: boolean
  readonly seen: SeenKeys
}

/** The keys of the demo: made up, and shown only to prove where each one went. */
export const demoKeys: { readonly openai: string; readonly groq: string } = Object.freeze({
  openai: 'demo-key-openai',
  groq: 'demo-key-groq',
})

/**
 * The seed scenario over real sockets: two fake OpenAI-dialect servers on
 * 127.0.0.1 stand for two vendors. The primary (`openai/gpt-4o`) answers
 * `primaryReply`; the fallback (`groq/llama-3.3-70b`) answers. One frozen
 * fallback array is reused by three sequential and five concurrent calls —
 * the reuse that litellm #28251 broke.
 */
export async function runSeedScenario(title: string, primaryReply: Reply): Promise<ScenarioReport> {
  const primary = await startFakeOpenAI({ respond: primaryReply })
  const backup = await startFakeOpenAI()
  try {
    const client = createClient({
      providers: [
        openai({ baseURL: `${primary.url}/v1`, apiKey: demoKeys.openai }),
        groq({ baseURL: `${backup.url}/v1`, apiKey: demoKeys.groq }),
      ],
      retries: 1,
      backoff: { initialDelayMs: 20 },
    })
    const fallbacks: readonly Target[] = deepFreeze(['groq/llama-3.3-70b'])
    const snapshot = JSON.stringify(fallbacks)
    const ask = (question: string): Promise<ChatResponse> =>
      client.complete(
        { model: 'openai/gpt-4o', messages: [{ role: 'user', content: question }] },
        { fallbacks, timeoutMs: 10_000 },
      )

    const calls: CallReport[] = []
    for (let i = 1; i <= 3; i++)
      calls.push({ label: `sequential ${i}`, response: await ask(`question ${i}`) })
    const concurrent = await Promise.all([4, 5, 6, 7, 8].map((i) => ask(`question ${i}`)))
    concurrent.forEach((response, i) => {
      calls.push({ label: `concurrent ${i + 1}`, response })
    })

    const keysOf = (requests: typeof primary.requests): string[] =>
      requests.map((request) => request.headers.authorization ?? '(none)')
    return {
      title,
      fallbacks,
      calls,
      unchanged: JSON.stringify(fallbacks) === snapshot,
      seen: {
        'openai (primary)': keysOf(primary.requests),
        'groq (fallback)': keysOf(backup.requests),
      },
    }
  } finally {
    await Promise.all([primary.close(), backup.close()])
  }
}
