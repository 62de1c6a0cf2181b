/**
 * `pnpm demo`: the seed scenario on in-process providers, printed so a person
 * can follow it. No key, no network.
 */
import type { Attempt } from '@understudy/core'
import { runSeedScenario } from './seed-scenario.js'

const report = await runSeedScenario()

const describeAttempt = (attempt: Attempt): string => {
  const what =
    attempt.outcome === 'error'
      ? `${attempt.error?.kind} ${attempt.status ?? ''}`.trim()
      : attempt.outcome === 'skipped'
        ? 'skipped (cooling down after repeated failures)'
        : attempt.outcome
  const retry = attempt.retry > 0 ? ` (retry ${attempt.retry})` : ''
  return `${attempt.target}${retry}: ${what}, ${attempt.durationMs} ms`
}

console.log(
  'Primary acme/large is down (503 overloaded). One frozen fallback array for every call:',
)
console.log(`  ${JSON.stringify(report.fallbacks)}\n`)
for (const { label, response } of report.calls) {
  console.log(`${label.padEnd(13)} served by ${response.target}`)
  for (const attempt of response.attempts) console.log(`    ${describeAttempt(attempt)}`)
}

console.log('\nWhich key each vendor received:')
for (const [vendor, seen] of Object.entries(report.seen)) {
  const keys = [...new Set(seen.map((request) => request.apiKey ?? '(none)'))]
  console.log(`  ${vendor.padEnd(7)} ${seen.length} requests, keys: ${keys.join(', ')}`)
}
console.log(
  `\nFallback array unchanged after ${report.calls.length} calls: ${report.unchanged ? 'yes' : 'NO'}`,
)
if (!report.unchanged) process.exitCode = 1
