/** Anything headers can be read from by name: a `Headers`, a `Map`, or a getter. */
export interface HeaderReader {
  get(name: string): string | null | undefined
}

/**
 * How long the upstream asked us to wait, in ms, from its response headers:
 * `retry-after-ms` (OpenAI, Azure) first, then `retry-after` as seconds
 * (fractions allowed) or as an HTTP date, measured from `now` (epoch ms).
 * `undefined` when neither header is there or readable; a date in the past
 * is `0`.
 *
 * @example
 * parseRetryAfter(new Headers({ 'retry-after': '1.5' }), Date.now()) // 1500
 * parseRetryAfter(new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), now) // ms until then, or 0
 */
export function parseRetryAfter(headers: HeaderReader, now: number): number | undefined {
  const ms = parseNumber(headers.get('retry-after-ms'))
  if (ms !== undefined) return Math.ceil(ms)
  const value = headers.get('retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  const seconds = parseNumber(value)
  if (seconds !== undefined) return secondsToMs(seconds)
  const date = Date.parse(value)
  if (Number.isNaN(date) || !/[a-z]/i.test(value)) return undefined
  return Math.max(0, date - now)
}

/**
 * A protobuf `Duration` as JSON writes it (`"36s"`, `"34.4s"`, `"0.5s"`) in
 * ms: Gemini's `RetryInfo.retryDelay`. `undefined` for anything else.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value)
  if (match === null) return undefined
  return secondsToMs(Number(match[1]))
}

/**
 * Whole ms, rounded up so a wait is never shorter than asked — but without
 * the float noise of `16.01 * 1000 = 16010.000000000002` adding a ms.
 */
function secondsToMs(seconds: number): number {
  return Math.ceil(Number((seconds * 1000).toFixed(6)))
}

/** A finite number of 0 or more, from a header's text; `undefined` otherwise. */
function parseNumber(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined
  const text = value.trim()
  if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined
  const number = Number(text)
  return Number.isFinite(number) ? number : undefined
}
