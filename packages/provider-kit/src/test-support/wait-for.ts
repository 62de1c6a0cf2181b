import { testTimeScale } from '@understudy/testkit'

/**
 * Polls `condition` every 5 ms until it holds; throws after 5 s (times
 * `UNDERSTUDY_TEST_TIME_SCALE`). The limit only ends a test that would
 * otherwise hang: what it waits for takes milliseconds, so it is generous
 * for a loaded machine and costs nothing when the condition comes true.
 */
export async function waitFor(condition: () => boolean): Promise<void> {
  const limitMs = 5_000 * testTimeScale()
  const until = Date.now() + limitMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`still not true after ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
