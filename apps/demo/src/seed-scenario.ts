import { type ChatResponse, createClient, type Target } from '@understudy/core'
import { demoProvider, type SeenRequest } from './demo-providers.js'

/** One call of the scenario and how it went. */
export interface CallReport {
  readonly label: string
  readonly response: ChatResponse
}

/** Everything the seed scenario did, for printing or checking. */
export interface ScenarioReport {
  readonly fallbacks: readonly Target[]
  readonly calls: readonly CallReport[]
  readonly unchanged: boolean
  readonly seen: Readonly<Record<string, readonly SeenRequest[]>>
}

/** The keys of the demo: made up, and shown only to prove where each one went. */
export const demoKeys: { readonly acme: string; readonly backup: string } = Object.freeze({
  acme: 'demo-key-acme',
  backup: 'demo-key-backup',
})

/**
 * The seed scenario: the primary (`acme/large`) is down; one frozen fallback
 * array, reused by three sequential and five concurrent calls, sends each to
 * `backup/small` with the backup's own key. The bug this guards against is
 * litellm #28251, where reusing the array lost its `model` keys.
 */
export async function runSeedScenario(): Promise<ScenarioReport> {
  const acme = demoProvider('acme', { down: ['large'] })
  const backup = demoProvider('backup')
  const client = createClient({
    providers: [acme, backup],
    retries: 1,
    backoff: { initialDelayMs: 20 },
  })

  const fallbacks: readonly Target[] = deepFreeze([
    { model: 'backup/small', apiKey: demoKeys.backup, headers: { 'x-team': 'demo' } },
  ])
  const snapshot = JSON.stringify(fallbacks)
  const ask = (question: string) =>
    client.complete(
      { model: 'acme/large', messages: [{ role: 'user', content: question }] },
      { fallbacks, apiKey: demoKeys.acme, timeoutMs: 5_000 },
    )

  const calls: CallReport[] = []
  for (let i = 1; i <= 3; i++) {
    calls.push({ label: `sequential ${i}`, response: await ask(`question ${i}`) })
  }
  const concurrent = await Promise.all([4, 5, 6, 7, 8].map((i) => ask(`question ${i}`)))
  concurrent.forEach((response, i) => {
    calls.push({ label: `concurrent ${i + 1}`, response })
  })

  return {
    fallbacks,
    calls,
    unchanged: JSON.stringify(fallbacks) === snapshot,
    seen: { acme: acme.seen, backup: backup.seen },
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
