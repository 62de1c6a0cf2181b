import type { ChatResponse, Target } from '@understudy/core'
import { deepFreeze, type Reply } from '@understudy/testkit'
import { setDemoStage } from './demo-stage.js'
import type { DemoVendor } from './demo-vendors.js'

/** One call of the scenario and how it went. */
export interface CallReport {
  readonly label: string
  readonly response: ChatResponse
}

/** Everything one run of the scenario did, for printing or checking. */
export interface ScenarioReport {
  readonly title: string
  /** The one fallback array every call was given, deep-frozen. */
  readonly fallbacks: readonly Target[]
  readonly calls: readonly CallReport[]
  /** Whether the array reads the same after every call as before the first. */
  readonly unchanged: boolean
  /** The credential each vendor received, request by request, by target. */
  readonly seen: ReadonlyMap<string, readonly string[]>
}

/**
 * The seed scenario over real sockets: the first vendor is the primary, the
 * others its fallbacks, each vendor answering its entry of `replies`. One
 * deep-frozen fallback array is reused by three sequential and five
 * concurrent calls — the reuse that litellm #28251 broke.
 */
export async function runSeedScenario(
  title: string,
  vendors: readonly DemoVendor[],
  replies: readonly (Reply | undefined)[],
): Promise<ScenarioReport> {
  const stage = await setDemoStage(vendors, replies)
  try {
    const fallbacks = deepFreeze([...stage.fallbacks])
    const snapshot = JSON.stringify(fallbacks)
    const ask = (question: string): Promise<ChatResponse> =>
      stage.client.complete(
        { model: stage.primary, messages: [{ role: 'user', content: question }] },
        { fallbacks, timeoutMs: 10_000 },
      )

    const calls: CallReport[] = []
    for (let i = 1; i <= 3; i++)
      calls.push({ label: `sequential ${i}`, response: await ask(`question ${i}`) })
    const concurrent = await Promise.all([4, 5, 6, 7, 8].map((i) => ask(`question ${i}`)))
    concurrent.forEach((response, i) => {
      calls.push({ label: `concurrent ${i + 1}`, response })
    })
    return {
      title,
      fallbacks,
      calls,
      unchanged: JSON.stringify(fallbacks) === snapshot,
      seen: stage.seen(),
    }
  } finally {
    await stage.close()
  }
}
