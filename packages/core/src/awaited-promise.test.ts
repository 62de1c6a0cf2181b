import { describe, expect, it } from 'vitest'
import { AwaitedPromise } from './awaited-promise.js'

function make(): {
  promise: AwaitedPromise<number>
  waits: () => number
  resolve: (n: number) => void
} {
  let resolve!: (n: number) => void
  const promise = new AwaitedPromise<number>((settle) => {
    resolve = settle
  })
  let count = 0
  promise.onFirstAwait(() => {
    count++
  })
  return { promise, waits: () => count, resolve }
}

describe('AwaitedPromise', () => {
  it('calls its hook once, at the first await', async () => {
    const { promise, waits, resolve } = make()
    expect(waits()).toBe(0)
    resolve(1)
    expect(await promise).toBe(1)
    await promise
    expect(waits()).toBe(1)
  })

  it.each([
    ['then', (p: Promise<number>) => p.then(() => {})],
    ['catch', (p: Promise<number>) => p.catch(() => {})],
    ['finally', (p: Promise<number>) => p.finally(() => {})],
    ['Promise.all', (p: Promise<number>) => Promise.all([p])],
    ['Promise.race', (p: Promise<number>) => Promise.race([p])],
  ])('hears a wait through %s', async (_, wait) => {
    const { promise, waits, resolve } = make()
    const waiting = wait(promise)
    // Promise.all and race wrap a foreign promise and call its `then` a microtask later.
    await Promise.resolve()
    expect(waits()).toBe(1)
    resolve(2)
    await waiting
  })

  it('is not waited on by being taken', async () => {
    const { promise, waits, resolve } = make()
    const taken = promise
    expect(taken).toBe(promise)
    resolve(3)
    await Promise.resolve()
    expect(waits()).toBe(0)
  })

  it('derives plain promises', () => {
    const { promise } = make()
    const derived = promise.then((n) => n)
    expect(derived).not.toBeInstanceOf(AwaitedPromise)
    expect(derived).toBeInstanceOf(Promise)
  })
})
