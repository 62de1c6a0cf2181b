import { ConfigError } from '@understudy/core'

/**
 * The environment variable that stretches every real-time limit of the
 * testkit's suites (and of Understudy's own tests) on a slow or busy machine:
 * `UNDERSTUDY_TEST_TIME_SCALE=3` gives each three times as long. The testkit
 * reads the environment here and nowhere else.
 */
const testTimeScaleVariable = 'UNDERSTUDY_TEST_TIME_SCALE'

/**
 * How much longer than usual a real-time limit of a test may be on this
 * machine: the number in `UNDERSTUDY_TEST_TIME_SCALE`, or `1` when it is
 * unset or empty. The suites multiply their own limits by it unless their
 * `timeScale` option says otherwise; a test of yours can too
 * (`2_000 * testTimeScale()`).
 *
 * Throws a `ConfigError` (path `UNDERSTUDY_TEST_TIME_SCALE`) when the
 * variable holds anything but a positive number.
 * @default 1
 */
export function testTimeScale(): number {
  const env = typeof process === 'object' ? process.env : undefined
  const raw = env?.[testTimeScaleVariable]?.trim()
  if (raw === undefined || raw === '') return 1
  return checkTimeScale(Number(raw), testTimeScaleVariable, JSON.stringify(raw))
}

/**
 * A suite's `timeScale` option, checked, or the environment's when it has
 * none. Zero would mean "no time at all" for every limit, never "the
 * default" (DESIGN rule 6), so only positive finite numbers pass.
 */
export function suiteTimeScale(option: number | undefined): number {
  if (option === undefined) return testTimeScale()
  return checkTimeScale(option, 'timeScale', String(option))
}

function checkTimeScale(scale: number, path: string, shown: string): number {
  if (Number.isFinite(scale) && scale > 0) return scale
  throw new ConfigError({
    path,
    message: `expected a positive number that multiplies the tests' time limits, received ${shown}`,
  })
}
