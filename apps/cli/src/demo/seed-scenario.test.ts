import { describe, expect, it } from 'vitest'
import { demoVendors, targetOf } from './demo-vendors.js'
import { runSeedScenario } from './seed-scenario.js'

const kinds = (attempts: readonly { outcome: string; error?: { kind: string } }[]): string[] =>
  attempts.map((attempt) => attempt.error?.kind ?? attempt.outcome)

const [openai, anthropic, google] = demoVendors.map(targetOf)

describe('runSeedScenario', () => {
  it('falls back from a rate-limited primary at once, then skips it while it cools down', async () => {
    const report = await runSeedScenario('429', demoVendors, [{ status: 429, retryAfter: '30' }])
    expect(report.calls.map(({ response }) => response.target)).toEqual(Array(8).fill(anthropic))
    expect(kinds(report.calls[0]?.response.attempts ?? [])).toEqual(['rate_limit', 'ok'])
    for (const { response } of report.calls.slice(1))
      expect(kinds(response.attempts)).toEqual(['skipped', 'ok'])
    expect(report.unchanged).toBe(true)
    expect(report.fallbacks).toEqual([anthropic, google])
    expect(Object.isFrozen(report.fallbacks)).toBe(true)
  })

  it('crosses to the third vendor when the first two are down; every vendor sees only its own key', async () => {
    const report = await runSeedScenario('503', demoVendors, [{ status: 503 }, { status: 503 }])
    const traces = report.calls.map(({ response }) => kinds(response.attempts))
    expect(traces.slice(0, 3)).toEqual(
      Array(3).fill(['overloaded', 'overloaded', 'overloaded', 'overloaded', 'ok']),
    )
    expect(traces.slice(3)).toEqual(Array(5).fill(['skipped', 'skipped', 'ok']))
    expect(report.calls.map(({ response }) => response.target)).toEqual(Array(8).fill(google))
    for (const vendor of demoVendors) {
      const seen = report.seen.get(targetOf(vendor)) ?? []
      expect(seen.length).toBeGreaterThan(0)
      expect(new Set(seen).size).toBe(1)
      expect(seen[0]).toContain(vendor.key)
    }
    expect(report.seen.get(openai ?? '')).toHaveLength(6)
    expect(report.unchanged).toBe(true)
  })
})
