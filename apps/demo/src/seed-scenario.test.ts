import { describe, expect, it } from 'vitest'
import { demoKeys, runSeedScenario } from './seed-scenario.js'

describe('runSeedScenario', () => {
  it('serves every call from the fallback, each vendor seeing only its own key', async () => {
    const report = await runSeedScenario()

    expect(report.calls).toHaveLength(8)
    const traces = report.calls.map(({ response }) => {
      expect(response.target).toBe('backup/small')
      return response.attempts.map((attempt) => attempt.error?.kind ?? attempt.outcome)
    })
    // Three calls find the primary down (one retry each); after six failures it cools down.
    expect(traces.slice(0, 3)).toEqual(Array(3).fill(['overloaded', 'overloaded', 'ok']))
    expect(traces.slice(3)).toEqual(Array(5).fill(['skipped', 'ok']))
    expect(report.unchanged).toBe(true)
    expect(new Set(report.seen.acme?.map((request) => request.apiKey))).toEqual(
      new Set([demoKeys.acme]),
    )
    expect(new Set(report.seen.backup?.map((request) => request.apiKey))).toEqual(
      new Set([demoKeys.backup]),
    )
  })

  it('answers each call with its own question', async () => {
    const report = await runSeedScenario()
    report.calls.forEach(({ response }, i) => {
      expect(response.text).toContain(`question ${i + 1}`)
    })
  })
})
