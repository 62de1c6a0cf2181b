import { type ChatRequest, createClient, isUnderstudyError } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { fakeClock } from './fake-clock.js'
import { mockProvider } from './mock-provider.js'

const request: ChatRequest = { model: 'a/m', messages: [{ role: 'user', content: 'hi' }] }

/** A promise that resolves after `depth` chained awaits: more than any fixed number of microtask rounds. */
async function deepChain(depth: number): Promise<void> {
  for (let i = 0; i < depth; i++) await Promise.resolve()
}

describe('fakeClock', () => {
  it('reads its start time until a test moves it', async () => {
    expect(fakeClock().now()).toBe(0)
    const clock = fakeClock(5_000)
    expect(clock.now()).toBe(5_000)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(clock.now()).toBe(5_000)
  })

  it('rejects a start that is not a finite number', () => {
    expect(() => fakeClock(Number.NaN)).toThrow(RangeError)
  })

  it('fires due timers in order of due time, then of creation, at their own time', async () => {
    const clock = fakeClock(100)
    const fired: string[] = []
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30)
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10)
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 10)
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 31)
    await clock.advance(30)
    expect(fired).toEqual(['a@110', 'b@110', 'c@130'])
    expect(clock.now()).toBe(130)
    expect(clock.pending()).toBe(1)
  })

  it('fires a timer set by a callback when it falls due within the same advance', async () => {
    const clock = fakeClock()
    const fired: number[] = []
    clock.setTimeout(() => {
      fired.push(clock.now())
      clock.setTimeout(() => fired.push(clock.now()), 5)
      clock.setTimeout(() => fired.push(clock.now()), 50)
    }, 10)
    await clock.advance(20)
    expect(fired).toEqual([10, 15])
    expect(clock.now()).toBe(20)
    expect(clock.nextTimerAt()).toBe(60)
  })

  it('lets a long chain of promise work settle before the next timer fires', async () => {
    const clock = fakeClock()
    const order: string[] = []
    clock.setTimeout(() => {
      order.push('first')
      // 200 awaits later, the code under test sets a timer due now: it must still fire in this advance.
      void deepChain(200).then(() => clock.setTimeout(() => order.push('after the chain'), 0))
    }, 10)
    clock.setTimeout(() => order.push('second'), 10)
    await clock.advance(10)
    expect(order).toEqual(['first', 'second', 'after the chain'])
  })

  it('runs promise work queued before advance before firing anything', async () => {
    const clock = fakeClock()
    const fired: number[] = []
    void deepChain(100).then(() => clock.setTimeout(() => fired.push(clock.now()), 5))
    await clock.advance(5)
    expect(fired).toEqual([5])
  })

  it('forgets a cleared timer and ignores an unknown handle', async () => {
    const clock = fakeClock()
    let fired = false
    const handle = clock.setTimeout(() => {
      fired = true
    }, 10)
    expect(clock.pending()).toBe(1)
    clock.clearTimeout(handle)
    clock.clearTimeout(handle)
    clock.clearTimeout('not a handle')
    expect(clock.pending()).toBe(0)
    await clock.advance(100)
    expect(fired).toBe(false)
  })

  it('treats a negative or NaN delay as 0 and never fires an Infinity one', async () => {
    const clock = fakeClock()
    const fired: string[] = []
    clock.setTimeout(() => fired.push('negative'), -5)
    clock.setTimeout(() => fired.push('nan'), Number.NaN)
    clock.setTimeout(() => fired.push('never'), Infinity)
    expect(clock.nextTimerAt()).toBe(0)
    await clock.advance(0)
    expect(fired).toEqual(['negative', 'nan'])
    expect(clock.nextTimerAt()).toBeUndefined()
    expect(clock.pending()).toBe(1)
  })

  it('refuses to advance by a negative or non-finite amount', async () => {
    const clock = fakeClock()
    await expect(clock.advance(-1)).rejects.toThrow(RangeError)
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError)
    await expect(clock.advance(Infinity)).rejects.toThrow(RangeError)
  })

  it('rejects advance with what a callback threw', async () => {
    const clock = fakeClock()
    clock.setTimeout(() => {
      throw new Error('boom')
    }, 1)
    await expect(clock.advance(5)).rejects.toThrow('boom')
  })

  it('reports the earliest pending timer', () => {
    const clock = fakeClock(1_000)
    expect(clock.nextTimerAt()).toBeUndefined()
    clock.setTimeout(() => {}, 300)
    clock.setTimeout(() => {}, 200)
    expect(clock.nextTimerAt()).toBe(1_200)
    expect(clock.pending()).toBe(2)
  })

  describe('runAll', () => {
    it('fires every timer and stops at the last one', async () => {
      const clock = fakeClock()
      const fired: number[] = []
      clock.setTimeout(() => {
        fired.push(clock.now())
        clock.setTimeout(() => fired.push(clock.now()), 1_000)
      }, 500)
      clock.setTimeout(() => fired.push(clock.now()), 200)
      await clock.runAll()
      expect(fired).toEqual([200, 500, 1_500])
      expect(clock.now()).toBe(1_500)
      expect(clock.pending()).toBe(0)
    })

    it('leaves timers beyond limitMs pending, so a re-arming timer ends', async () => {
      const clock = fakeClock()
      let ticks = 0
      const tick = (): void => {
        ticks++
        clock.setTimeout(tick, 1_000)
      }
      clock.setTimeout(tick, 1_000)
      await clock.runAll(10_000)
      expect(ticks).toBe(10)
      expect(clock.pending()).toBe(1)
      expect(clock.nextTimerAt()).toBe(11_000)
    })
  })

  describe('settle', () => {
    it('drives the clock until the promise fulfils and returns its value', async () => {
      const clock = fakeClock()
      const late = new Promise<string>((resolve) => clock.setTimeout(() => resolve('done'), 60_000))
      expect(await clock.settle(late)).toEqual({ status: 'fulfilled', value: 'done' })
      expect(clock.now()).toBe(60_000)
    })

    it('reports a rejection as data, never as an unhandled rejection', async () => {
      const clock = fakeClock()
      const failing = new Promise((_, reject) =>
        clock.setTimeout(() => reject(new Error('no')), 10),
      )
      const result = await clock.settle(failing)
      expect(result.status).toBe('rejected')
      expect(result.status === 'rejected' && result.reason).toEqual(new Error('no'))
    })

    it('throws a clear error when the promise is pending with no timer left (a hang)', async () => {
      const clock = fakeClock()
      clock.setTimeout(() => {}, 100)
      const never = new Promise(() => {})
      await expect(clock.settle(never)).rejects.toThrow(
        /still pending and no timer is left to fire \(at 100 ms, after 1 timers\)/,
      )
    })

    it('counts a timer that can never fire as no timer', async () => {
      const clock = fakeClock()
      const never = new Promise((resolve) => clock.setTimeout(() => resolve(undefined), Infinity))
      await expect(clock.settle(never)).rejects.toThrow(/no timer is left to fire/)
    })

    it('gives up after maxTimers timers', async () => {
      const clock = fakeClock()
      const tick = (): void => {
        clock.setTimeout(tick, 1)
      }
      tick()
      await expect(clock.settle(new Promise(() => {}), { maxTimers: 20 })).rejects.toThrow(
        /still pending after 20 timers/,
      )
    })
  })

  describe('as the clock of createClient', () => {
    it('runs a Retry-After wait in virtual time and leaves no timer behind', async () => {
      const clock = fakeClock()
      const a = mockProvider(
        'a',
        { m: [{ fail: 'rate_limit', status: 429, retryAfterMs: 2_000 }, { ok: 'hi' }] },
        { clock },
      )
      const client = createClient({ providers: [a], clock, retries: 1 })
      let settled = false
      const call = client.complete(request).finally(() => {
        settled = true
      })
      await clock.advance(1_999)
      expect(settled).toBe(false)
      expect(a.calls).toHaveLength(1)
      expect(clock.pending()).toBe(1)
      await clock.advance(1)
      expect(settled).toBe(true)
      const response = await call
      expect(response.text).toBe('hi')
      expect(response.attempts.map((attempt) => attempt.outcome)).toEqual(['error', 'ok'])
      expect(a.calls).toHaveLength(2)
      expect(clock.pending()).toBe(0)
    })

    it('runs a jittered backoff (random 0.5 of 1000 ms: 500 ms) and a delayed answer', async () => {
      const clock = fakeClock()
      const a = mockProvider(
        'a',
        {
          m: [
            { fail: 'server', status: 500 },
            { ok: 'late', delayMs: 250 },
          ],
        },
        { clock },
      )
      const client = createClient({
        providers: [a],
        clock,
        random: () => 0.5,
        retries: 1,
        backoff: { initialDelayMs: 1_000 },
      })
      const result = await clock.settle(client.complete(request))
      expect(result.status).toBe('fulfilled')
      expect(clock.now()).toBe(750)
      expect(clock.pending()).toBe(0)
    })

    it('ends a call at its deadline while the provider hangs', async () => {
      const clock = fakeClock()
      const a = mockProvider('a', { m: [{ hang: true }] }, { clock })
      const client = createClient({ providers: [a], clock, timeoutMs: 5_000 })
      const result = await clock.settle(client.complete(request))
      expect(result.status === 'rejected' && isUnderstudyError(result.reason, 'deadline')).toBe(
        true,
      )
      expect(clock.now()).toBe(5_000)
      expect(a.calls[0]?.aborted).toBe(true)
      expect(clock.pending()).toBe(0)
    })
  })
})
