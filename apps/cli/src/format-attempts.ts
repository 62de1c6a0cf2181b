import type { Attempt } from '@understudy/core'
import { formatTable, type Paint } from './terminal-style.js'

/**
 * What an attempt did, in a word: `ok`, `skipped` (cooling down), `hedged`,
 * or the error's kind.
 */
export function attemptOutcome(attempt: Attempt): string {
  if (attempt.outcome === 'error') return attempt.error?.kind ?? 'error'
  return attempt.outcome
}

/** A duration for people: `840 ms`, `1.2 s`, `30 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const seconds = ms / 1000
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`
}

/**
 * The attempt trace as a table, for `--verbose` and failures: one row per
 * attempt with its target, outcome or error kind, HTTP status, retry
 * number and duration, and why it failed when it did.
 */
export function formatAttempts(attempts: readonly Attempt[], paint: Paint): string[] {
  const header = ['#', 'target', 'outcome', 'status', 'retry', 'time', 'detail'].map(paint.dim)
  const rows = attempts.map((attempt, i) => {
    const outcome = attemptOutcome(attempt)
    const style =
      attempt.outcome === 'ok'
        ? paint.green
        : attempt.outcome === 'error'
          ? paint.red
          : paint.yellow
    const retryAfter =
      attempt.error?.retryAfterMs === undefined
        ? ''
        : `Retry-After ${formatMs(attempt.error.retryAfterMs)}`
    const detail =
      attempt.outcome === 'skipped'
        ? 'cooling down, not called'
        : [retryAfter, briefMessage(attempt)].filter((part) => part !== '').join('; ')
    return [
      String(i + 1),
      attempt.target,
      style(outcome),
      attempt.status === undefined ? '-' : String(attempt.status),
      String(attempt.retry),
      formatMs(attempt.durationMs),
      paint.dim(detail),
    ]
  })
  return formatTable([header, ...rows])
}

/** The error's message without the target and status it starts with, which the table's columns show. */
function briefMessage(attempt: Attempt): string {
  const message = attempt.error?.message ?? ''
  const prefix = `${attempt.target}${attempt.status === undefined ? '' : ` ${attempt.status}`}: `
  return message.startsWith(prefix) ? message.slice(prefix.length) : message
}
