/**
 * `pnpm demo`: the seed scenario over real sockets on 127.0.0.1, printed so a
 * person can follow it. No API key, no network beyond loopback.
 */
import type { Attempt } from '@understudy/core'
import { runSeedScenario, type ScenarioReport } from './seed-scenario.js'
import { runStreamScenario, type StreamReport } from './stream-scenario.js'

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

/** Streams one call, writing its text as it arrives, then how it ended and every attempt. */
async function streamed(
  title: string,
  reply: Parameters<typeof runStreamScenario>[1],
): Promise<StreamReport> {
  console.log(`\n== ${title}`)
  process.stdout.write('caller sees: ')
  const report = await runStreamScenario(title, reply, (event) => {
    if (event.type === 'start') process.stdout.write(`[start: ${event.target}] `)
    if (event.type === 'text') process.stdout.write(event.text)
    if (event.type === 'finish') process.stdout.write(` [finish: ${event.finishReason}]`)
  })
  process.stdout.write('\n')
  if (report.error !== undefined) {
    console.log(`stream ended with ${report.error.kind}: ${report.error.message}`)
    console.log(`partial text delivered: ${JSON.stringify(report.error.partial?.text)}`)
  }
  for (const attempt of report.response?.attempts ?? report.error?.attempts ?? [])
    console.log(`    ${describeAttempt(attempt)}`)
  return report
}

const rateLimited = await runSeedScenario(
  'The primary is rate-limited: 429 with Retry-After: 30 (longer than the 10 s backoff cap, so no wait)',
  { status: 429, retryAfter: '30' },
)
const down = await runSeedScenario('The primary is down: 503 on every request', { status: 503 })
if (!print(rateLimited) || !print(down)) process.exitCode = 1

const fellBack = await streamed(
  'A stream whose primary is down (503) before its first token: the fallback streams, the failure stays invisible',
  { status: 503 },
)
const interrupted = await streamed(
  'A stream whose primary drops the connection after its first words: reported, never papered over',
  { fault: 'drop-mid-stream', afterEvents: 3 },
)
if (fellBack.response === undefined || interrupted.error?.kind !== 'stream_interrupted') {
  process.exitCode = 1
}
