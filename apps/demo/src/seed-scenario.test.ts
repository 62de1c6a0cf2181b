import { describe, expect, it } from 'vitest'
import { demoKeys, runSeedScenario } from './seed-scenario.js'

const kinds = (attempts: readonly { outcome: string; error?: { kind: string } }[]): string[] =>
  attempts.map((attempt) => attempt.error?.kind ?? attempt.outcome)

describe('runSeedScenario', () => {
  it('falls back from a rate-limited primary at once, then skips it while it cools down', async () => {
    const report = await runSeedScenario('429', { status: 429, retryAfter: '30' })
    expect(report.calls.map(({ response }) => response.target)).toEqual(
      Array(8).fill('groq/llama-3.3-70b'),
    )
    expect(kinds(report.calls[0]?.response.attempts ?? [])).toEqual(['rate_limit', 'ok'])
    for (const { response } of report.calls.slice(1))
      expect(kinds(response.attempts)).toEqual(['skipped', 'ok'])
    expect(report.unchanged).toBe(true)
  })

  it('retries a down primary once, then falls back; every vendor sees only its own key', async () => {
    const report = await runSeedScenario('503', { status: 503 })
    const traces = report.calls.map(({ response }) => kinds(response.attempts))
    expect(traces.slice(0, 3)).toEqual(Array(3).fill(['overloaded', 'overloaded', 'ok']))
    expect(traces.slice(3)).toEqual(Array(5).fill(['skipped', 'ok']))
    expect(new Set(report.seen['openai (primary)'])).toEqual(new Set([`Bearer ${demoKeys.openai}`]))
    expect(new Set(report.seen['groq (fallback)'])).toEqual(new Set([`Bearer ${demoKeys.groq}`]))
    expect(report.calls.map(({ response }) => response.text)).toEqual(
      Array(8).fill('Hello from the fake server.'),
    )
    expect(report.unchanged).toBe(true)
  })
})
