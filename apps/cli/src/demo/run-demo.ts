import type { Attempt, StreamEvent } from '@understudy/core'
import type { Reply } from '@understudy/testkit'
import type { CommandIo } from '../command-io.js'
import { type ExitCode, exitCodes } from '../exit-codes.js'
import { attemptOutcome, formatMs } from '../format-attempts.js'
import { createPaint, formatTable, type Paint, shouldColor } from '../terminal-style.js'
import { type DemoVendor, demoVendors, targetOf } from './demo-vendors.js'
import { runSeedScenario, type ScenarioReport } from './seed-scenario.js'
import { runStreamScenario, type StreamReport } from './stream-scenario.js'

/** One act of the story: a scripted outage, as replies of the vendors in order (the first is the primary). */
export interface DemoAct {
  readonly kind: 'calls' | 'stream'
  readonly title: string
  readonly replies: readonly (Reply | undefined)[]
}

/**
 * The story `understudy demo` tells over `vendors`: the primary
 * rate-limited, then down with the second vendor overloaded too, then two
 * streams — one whose primary fails before its first token, one cut off
 * after it.
 */
export function demoActs(vendors: readonly DemoVendor[]): readonly DemoAct[] {
  const second = vendors[1]?.name ?? 'the fallback'
  const third = vendors[2]
  return [
    {
      kind: 'calls',
      title:
        'The primary is rate-limited: 429, Retry-After 30 s (longer than the 10 s backoff cap, so no wait)',
      replies: [{ status: 429, retryAfter: '30' }],
    },
    third === undefined
      ? {
          kind: 'calls',
          title: 'The primary is down: 503 on every request',
          replies: [{ status: 503 }],
        }
      : {
          kind: 'calls',
          title: `The primary is down (503 on every request), and ${second} is overloaded too: ${third.name} takes the stage`,
          replies: [{ status: 503 }, { status: 503 }],
        },
    {
      kind: 'stream',
      title:
        'A stream whose primary is down (503) before its first token: a fallback streams, the failure stays invisible',
      replies: [{ status: 503 }],
    },
    {
      kind: 'stream',
      title:
        'A stream whose primary breaks off after its first words: reported, never papered over',
      replies: [{ fault: 'drop-mid-stream', afterEvents: 3 }],
    },
  ]
}

/**
 * `understudy demo`: starts {@link demoVendors} on 127.0.0.1 and tells
 * {@link demoActs} with the real client, printing which target served each
 * call, each attempt with its error kind and time, which credential each
 * vendor saw, and that the fallback array never changed. Returns 0 when the
 * story went as told, 1 when something did not (a bug to report).
 */
export async function runDemo(
  io: CommandIo,
  vendors: readonly DemoVendor[] = demoVendors,
): Promise<ExitCode> {
  const paint = createPaint(shouldColor(io.stdout, io.env))
  const out = (line = ''): void => {
    io.stdout.write(`${line}\n`)
  }
  out(paint.bold('Understudy demo: a chain of fake vendors on 127.0.0.1, real providers, no key'))
  out(
    `Primary ${paint.cyan(targetOf(vendors[0] as DemoVendor))}; fallbacks ${vendors
      .slice(1)
      .map((vendor) => paint.cyan(targetOf(vendor)))
      .join(', ')}.`,
  )
  let ok = true
  for (const [i, act] of demoActs(vendors).entries()) {
    out()
    out(paint.bold(`${i + 1}. ${act.title}`))
    if (act.kind === 'calls') {
      const report = await runSeedScenario(act.title, vendors, act.replies)
      ok = printCalls(report, vendors, paint, out) && ok
    } else {
      const report = await runStreamScenario(act.title, vendors, act.replies, (event) =>
        io.stdout.write(describeEvent(event, paint)),
      )
      ok = printStream(report, act, paint, out) && ok
    }
  }
  out()
  out(
    ok
      ? paint.green(
          'Every call was answered or reported as told; each vendor saw only its own key; the fallback array never changed.',
        )
      : paint.red('Something did not go as the story says: please report it.'),
  )
  return ok ? exitCodes.success : exitCodes.callFailed
}

/**
 * A run of attempts of one target with one outcome, in a few words:
 * `openai/gpt-4o rate_limit 429 (Retry-After 30 s) 3 ms`, or
 * `openai/gpt-4o overloaded 503 ×2 35 ms` for a retried one.
 */
function describeRun(run: readonly Attempt[], paint: Paint): string {
  const attempt = run[0] as Attempt
  const outcome = attemptOutcome(attempt)
  if (attempt.outcome === 'skipped')
    return `${attempt.target} ${paint.yellow('skipped (cooling down)')}`
  const style = attempt.outcome === 'ok' ? paint.green : paint.red
  const status = attempt.status === undefined ? '' : ` ${attempt.status}`
  const times = run.length > 1 ? ` ×${run.length}` : ''
  const retryAfter =
    attempt.error?.retryAfterMs === undefined
      ? ''
      : ` (Retry-After ${formatMs(attempt.error.retryAfterMs)})`
  const ms = run.reduce((sum, each) => sum + each.durationMs, 0)
  return `${attempt.target} ${style(`${outcome}${status}${times}`)}${retryAfter} ${paint.dim(formatMs(ms))}`
}

/** The attempts, a target's retries with the same outcome told once: `a overloaded 503 ×2 → b ok 200`. */
function describeAttempts(attempts: readonly Attempt[], paint: Paint): string {
  const runs: Attempt[][] = []
  for (const attempt of attempts) {
    const last = runs.at(-1)
    const previous = last?.at(-1)
    if (
      last !== undefined &&
      previous !== undefined &&
      previous.target === attempt.target &&
      attemptOutcome(previous) === attemptOutcome(attempt) &&
      previous.status === attempt.status
    )
      last.push(attempt)
    else runs.push([attempt])
  }
  return runs.map((run) => describeRun(run, paint)).join(paint.dim(' → '))
}

function printCalls(
  report: ScenarioReport,
  vendors: readonly DemoVendor[],
  paint: Paint,
  out: (line?: string) => void,
): boolean {
  out(`One frozen fallback array for every call: ${paint.cyan(JSON.stringify(report.fallbacks))}`)
  const rows = [
    ['call', 'served by', 'attempts'].map(paint.dim),
    ...report.calls.map(({ label, response }) => [
      label,
      paint.green(response.target),
      describeAttempts(response.attempts, paint),
    ]),
  ]
  for (const line of formatTable(rows)) out(`  ${line}`)
  out('What each vendor received as its credential:')
  let ownKeys = true
  const keyRows = vendors.map((vendor) => {
    const keys = report.seen.get(targetOf(vendor)) ?? []
    const distinct = [...new Set(keys)]
    const own = distinct.every((key) => key.includes(vendor.key))
    ownKeys &&= own
    const count = `${keys.length} request${keys.length === 1 ? '' : 's'}`
    return [
      vendor.name,
      count,
      distinct.length === 0
        ? paint.dim('none')
        : (own ? paint.green : paint.red)(distinct.join(', ')),
    ]
  })
  for (const line of formatTable(keyRows)) out(`  ${line}`)
  out(
    `Fallback array unchanged after ${report.calls.length} calls: ${report.unchanged ? paint.green('yes') : paint.red('NO')}`,
  )
  return report.unchanged && ownKeys
}

/** What the caller of a stream sees of one event, as it arrives. */
function describeEvent(event: StreamEvent, paint: Paint): string {
  switch (event.type) {
    case 'start':
      return `  caller sees: ${paint.dim(`[start: ${event.target}]`)} `
    case 'text':
      return event.text
    case 'finish':
      return ` ${paint.dim(`[finish: ${event.finishReason}]`)}`
    default:
      return ''
  }
}

function printStream(
  report: StreamReport,
  act: DemoAct,
  paint: Paint,
  out: (line?: string) => void,
): boolean {
  if (report.events.length === 0) out('  caller sees nothing')
  else out()
  const attempts = report.response?.attempts ?? report.error?.attempts ?? []
  if (report.error !== undefined) {
    out(`  stream ended with ${paint.red(report.error.kind)}: ${report.error.message}`)
    out(`  partial text delivered: ${JSON.stringify(report.error.partial?.text ?? '')}`)
  } else if (report.response !== undefined) {
    out(`  served by ${paint.green(report.response.target)}`)
  }
  out(`  attempts: ${describeAttempts(attempts, paint)}`)
  const fault = act.replies[0]
  const expectInterrupted = fault !== undefined && 'fault' in fault
  return expectInterrupted
    ? report.error?.kind === 'stream_interrupted'
    : report.response !== undefined
}
