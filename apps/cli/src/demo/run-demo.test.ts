import { describe, expect, it } from 'vitest'
import { finished, hasAnsi, runCli, startCli } from '../test-support/run-cli.js'
import { demoVendors, targetOf } from './demo-vendors.js'

/** `text` as a regular expression matching it literally. */
const literally = (text: string | undefined): string =>
  (text ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

describe('understudy demo', () => {
  it('tells the story in plain text when piped, and exits 0', async () => {
    const run = await runCli(['demo'])
    expect(run.code).toBe(0)
    expect(run.stderr).toBe('')
    expect(hasAnsi(run.stdout)).toBe(false)
    for (const vendor of demoVendors) {
      expect(run.stdout).toContain(targetOf(vendor))
      expect(run.stdout).toContain(vendor.key)
    }
    const [primary, second, third] = demoVendors.map(targetOf)
    expect(run.stdout).toMatch(
      new RegExp(
        `sequential 1 +${literally(second)} +${literally(primary)} rate_limit 429 \\(Retry-After 30 s\\)`,
      ),
    )
    expect(run.stdout).toMatch(
      new RegExp(
        `concurrent 5 +${literally(third)} +${literally(primary)} skipped \\(cooling down\\)`,
      ),
    )
    expect(run.stdout).toContain('Fallback array unchanged after 8 calls: yes')
    expect(run.stdout).toContain(`caller sees: [start: ${second}] The understudy takes the stage`)
    expect(run.stdout).toContain('stream ended with stream_interrupted')
    expect(run.stdout).toContain('each vendor saw only its own key')
  })

  it('colours the story when asked (FORCE_COLOR), and never with NO_COLOR', async () => {
    const [forced, noColor] = await Promise.all([
      runCli(['demo'], { env: { FORCE_COLOR: '1' } }),
      runCli(['demo'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }),
    ])
    expect([forced.code, noColor.code]).toEqual([0, 0])
    expect(hasAnsi(forced.stdout)).toBe(true)
    expect(hasAnsi(noColor.stdout)).toBe(false)
  })

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    const child = startCli(['demo'])
    child.stdout?.once('data', () => child.stdout?.destroy())
    const run = await finished(child)
    expect(run).toMatchObject({ code: 0, signal: null, stderr: '' })
  })
})
