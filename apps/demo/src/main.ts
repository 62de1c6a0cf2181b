/**
 * `pnpm demo`: the seed scenario over real sockets on 127.0.0.1, printed so a
 * person can follow it. No API key, no network beyond loopback.
 */
import type { Attempt } from '@understudy/core'
import { runSeedScenario, type ScenarioReport } from './seed-scenario.js'

const describeAttempt = (attempt: Attempt): string => {
  const what =
    attempt.outcome === 'error'
      ? `${attempt.error?.kind} ${attempt.status ?? ''}`.trim() +
        (attempt.error?.retryAfterMs === undefined
          ? ''
          : ` (Retry-After ${attempt.error.retryAfterMs / 1000} s)`)
      : attempt.outcome === 'skipped'
        ? 'skipped (cooling down)'
        : `${attempt.outcome} ${attempt.status ?? ''}`.trim()
  const retry = attempt.retry > 0 ? ` retry ${attempt.retry}` : ''
  return `${attempt.target}${retry}: ${what}, ${attempt.durationMs} ms`
}

function print(report: ScenarioReport): boolean {
  console.log(`\n== ${report.title}`)
  console.log(`One frozen fallback array for every call: ${JSON.stringify(report.fallbacks)}`)
  for (const { label, response } of report.calls) {
    console.log(`${label.padEnd(13)} served by ${response.target}`)
    for (const attempt of response.attempts) console.log(`    ${describeAttempt(attempt)}`)
  }
  console.log('What each vendor received as its credential:')
  for (const [vendor, keys] of Object.entries(report.seen)) {
    const distinct = [...new Set(keys)]
    console.log(`  ${vendor.padEnd(17)} ${keys.length} requests, ${distinct.join(', ') || 'none'}`)
  }
  console.log(
    `Fallback array unchanged after ${report.calls.length} calls: ${report.unchanged ? 'yes' : 'NO'}`,
  )
  return report.unchanged
}

const rateLimited = await runSeedScenario(
  'The primary is rate-limited: 429 with Retry-After: 30 (longer than the 10 s backoff cap, so no wait)',
  { status: 429, retryAfter: '30' },
)
const down = await runSeedScenario('The primary is down: 503 on every request', { status: 503 })
if (!print(rateLimited) || !print(down)) process.exitCode = 1
