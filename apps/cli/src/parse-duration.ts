const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?$/

const msPerUnit: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000 }

/**
 * A duration as `--timeout` takes it, in ms: `1500ms`, `30s`, `2m`, or a
 * bare number of ms (`1500`). `undefined` for anything else, and for zero:
 * a zero timeout means no time at all, never "the default" (DESIGN rule 6),
 * so the command refuses it as the library does. Fractions of a ms round up,
 * so a limit is never shorter than asked.
 */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim())
  if (match === null) return undefined
  const ms = Math.ceil(Number(match[1]) * (msPerUnit[match[2] ?? 'ms'] ?? 1))
  return ms > 0 && Number.isFinite(ms) ? ms : undefined
}

/** A whole number of 0 or more, as `--retries` takes it; `undefined` for anything else. */
export function parseCount(text: string): number | undefined {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) return undefined
  const count = Number(trimmed)
  return Number.isSafeInteger(count) ? count : undefined
}
