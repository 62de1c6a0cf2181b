import type { Clock } from './clock.js'

/**
 * Waits `ms` on `clock`. Resolves `true` when the time passed, `false` at
 * once when `signal` aborts; either way no timer or listener is left behind.
 */
export function sleep(ms: number, clock: Clock, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer)
      resolve(false)
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
