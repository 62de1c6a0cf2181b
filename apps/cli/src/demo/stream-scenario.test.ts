import { describe, expect, it } from 'vitest'
import { demoVendors, targetOf } from './demo-vendors.js'
import { runStreamScenario, streamedAnswer } from './stream-scenario.js'

const textOf = (events: readonly { type: string; text?: string }[]): string =>
  events.map((event) => (event.type === 'text' ? event.text : '')).join('')

describe('runStreamScenario', () => {
  it('falls back before the first token without the caller seeing the failed primary', async () => {
    const report = await runStreamScenario('503', demoVendors, [{ status: 503 }])
    expect(report.events[0]).toMatchObject({
      type: 'start',
      target: targetOf(demoVendors[1] as (typeof demoVendors)[number]),
    })
    expect(report.events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' })
    expect(textOf(report.events)).toBe(streamedAnswer)
    expect(
      report.response?.attempts.map((attempt) => attempt.error?.kind ?? attempt.outcome),
    ).toEqual(['overloaded', 'overloaded', 'ok'])
  })

  it('reports a primary that drops after its first words as interrupted, with exactly those words', async () => {
    const report = await runStreamScenario('drop', demoVendors, [
      { fault: 'drop-mid-stream', afterEvents: 3 },
    ])
    expect(report.events[0]).toMatchObject({ type: 'start', target: 'openai/gpt-4o' })
    expect(report.error?.kind).toBe('stream_interrupted')
    expect(report.error?.partial?.text).toBe(textOf(report.events))
    expect(textOf(report.events).length).toBeGreaterThan(0)
    expect(report.events.some((event) => event.type === 'finish')).toBe(false)
  })
})
