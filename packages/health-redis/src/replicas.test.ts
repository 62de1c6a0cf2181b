import { testTimeScale } from '@understudy/testkit'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { healthKeys } from './health-keys.js'
import { eventually, fakeUpstream, modelsSeen, nodeRedis, ownRedis } from './test-support/setup.js'
import type { ReplicaOptions } from './test-support/replica.js'
import { type Replica, startReplica } from './test-support/replicas.js'

const thresholds = { minCalls: 2, failureRate: 0.5, windowMs: 60_000, cooldownMs: 60_000 }

async function replicas(
  count: number,
  options: Omit<ReplicaOptions, 'client' | 'epoch' | 'speed'> & { readonly speed?: number },
): Promise<Replica[]> {
  const epoch = Date.now()
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startReplica({
        speed: 1,
        epoch,
        ...options,
        // Half the replicas on node-redis, half on ioredis: one store, whatever the client.
        client: i % 2 === 0 ? 'node-redis' : 'ioredis',
      }),
    ),
  )
  return started
}

const closeAll = (list: readonly Replica[]): Promise<unknown> =>
  Promise.all(list.map((each) => each.close()))

/** Each test starts processes of its own (about 2 s each to load on a busy machine): a longer limit. */
const timeout = 90_000 * testTimeScale()

describe('replicas in separate processes sharing one Redis store', { timeout }, () => {
  it('skip a target in replica B within 500 ms of replica A seeing it fail', async () => {
    const redis = await ownRedis()
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 503 })
    const [a, b] = await replicas(2, { redisPort: redis.port, upstream: upstream.url, thresholds })
    if (a === undefined || b === undefined) throw new Error('two replicas')
    // B has read the target's health (not cooling) and caches it: the worst case for propagation.
    expect((await b.call()).outcomes).toEqual(['error', 'ok'])
    upstream.script('gpt-4o', { status: 503 })
    expect((await a.call()).outcomes).toEqual(['error', 'ok'])
    const cooledAt = performance.now()
    let seenAfterMs = Number.POSITIVE_INFINITY
    await eventually(async () => {
      const outcomes = (await b.call()).outcomes
      if (outcomes?.[0] !== 'skipped') return false
      seenAfterMs = performance.now() - cooledAt
      return true
    }, 2_000)
    // The bound, stretched like every real-time limit of the tests on a slow machine.
    expect(seenAfterMs).toBeLessThan(500 * testTimeScale())
    await closeAll([a, b])
  })

  it('cool a target in every replica for a 429 with Retry-After 30 s, until the same instant everywhere', async () => {
    const redis = await ownRedis()
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 429, retryAfter: '30' }, { text: 'back' })
    // 30 virtual ms per real ms: the 30 s Retry-After lasts one real second.
    const group = await replicas(3, {
      redisPort: redis.port,
      upstream: upstream.url,
      thresholds,
      speed: 30,
    })
    const [a] = group
    if (a === undefined) throw new Error('three replicas')
    const first = await a.call()
    expect(first.outcomes).toEqual(['error', 'ok'])
    const began = first.startedAt as number
    const failedBy = first.endedAt as number
    const primaryKey = first.keys?.[0] as string
    // Provider, model, the provider's configured base URL and a hash of its key; never the key.
    const [provider, model, baseURL, keyHash] = primaryKey.split('\u0000')
    expect([provider, model, baseURL]).toEqual(['openai', 'gpt-4o', `${upstream.url}/v1`])
    expect(keyHash).toMatch(/^[0-9a-f]+$/)
    expect(primaryKey).not.toContain('sk-replica-key')
    // Every replica reads the same end, 30 s after the failure.
    let ends: (number | null)[] = []
    expect(
      await eventually(async () => {
        ends = (await Promise.all(group.map((each) => each.ends([primaryKey])))).map(
          (each) => each[0] ?? null,
        )
        return ends.every((end) => end !== null)
      }, 2_000),
    ).toBe(true)
    expect(new Set(ends).size).toBe(1)
    const end = ends[0] as number
    expect(end - began).toBeGreaterThanOrEqual(30_000)
    expect(end).toBeLessThanOrEqual(failedBy + 30_000)
    // Until then no replica tries the primary; after it, each does.
    const tried: number[] = []
    const calls = group.map(async (replica) => {
      for (;;) {
        const call = await replica.call()
        if (call.outcomes?.[0] !== 'skipped') {
          tried.push(call.primaryTriedAt as number)
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })
    await Promise.all(calls)
    expect(tried).toHaveLength(3)
    // When each sent the primary its request: a call's own start may be a clock tick before `end`.
    for (const triedAt of tried) expect(triedAt).toBeGreaterThanOrEqual(end)
    expect(modelsSeen(upstream).filter((model) => model === 'gpt-4o')).toHaveLength(4)
    await closeAll(group)
  })

  it('send only the first few of forty calls over four processes to a target that is down', async () => {
    const redis = await ownRedis()
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 503 })
    const group = await replicas(4, { redisPort: redis.port, upstream: upstream.url, thresholds })
    const outcomes = await Promise.all(
      group.map(async (replica) => {
        const each: string[] = []
        for (let i = 0; i < 10; i++) each.push((await replica.call()).outcomes?.[0] ?? '')
        return each
      }),
    )
    const reached = modelsSeen(upstream).filter((model) => model === 'gpt-4o').length
    expect(outcomes.flat()).toHaveLength(40)
    // minCalls is 2: a replica's first failure or two, before the shared count cools the target.
    expect(reached).toBeLessThanOrEqual(8)
    for (const each of outcomes) {
      // Within a replica, the failures come first, then only skips.
      const firstSkip = each.indexOf('skipped')
      expect(firstSkip).toBeGreaterThan(-1)
      expect(each.slice(firstSkip).every((outcome) => outcome === 'skipped')).toBe(true)
    }
    await closeAll(group)
  })

  it('keep serving while Redis is frozen, each call at most about a second longer, and share cooldowns again once it thaws', async () => {
    const redis = await ownRedis()
    const upstream = await fakeUpstream()
    const pair = await replicas(2, { redisPort: redis.port, upstream: upstream.url, thresholds })
    await Promise.all(pair.map((replica) => replica.call()))
    redis.pause()
    for (let round = 0; round < 4; round++) {
      const calls = await Promise.all(pair.map((replica) => replica.call()))
      for (const call of calls) {
        expect(call.outcomes).toEqual(['ok'])
        // At most the store's command timeout (500 ms) more than a call takes.
        expect((call.endedAt as number) - (call.startedAt as number)).toBeLessThan(
          1_000 * testTimeScale(),
        )
      }
    }
    redis.resume()
    upstream.script('gpt-4o', { status: 503 })
    const [a, b] = pair as [Replica, Replica]
    // Once each store asks Redis again (retryMs, 1 s), A's failures cool the target for B.
    expect(
      await eventually(async () => {
        await a.call()
        return (await b.call()).outcomes?.[0] === 'skipped'
      }, 5_000),
    ).toBe(true)
    await closeAll(pair)
  })

  it('never move a cooldown earlier, whatever the interleaving of writers in four processes', async () => {
    const redis = await ownRedis()
    // Only Retry-After cools here (minCalls out of reach), so the end to expect is the latest of them.
    const group = await replicas(4, {
      redisPort: redis.port,
      upstream: 'http://127.0.0.1:9',
      thresholds: { ...thresholds, minCalls: 1_000_000 },
    })
    const watcher = await nodeRedis(redis)
    const failure = fc.record({
      retryAfterMs: fc.integer({ min: 1_000, max: 120_000 }),
      pauseMs: fc.integer({ min: 0, max: 3 }),
    })
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(failure, { minLength: 1, maxLength: 6 }), { minLength: 4, maxLength: 4 }),
        async (plans) => {
          run += 1
          const key = `openai\u0000property-${run}\u0000\u0000`
          const cooldown = healthKeys('understudy:health:', key).cooldown
          let latest = 0
          let earlier = 0
          let writing = true
          const watching = (async () => {
            while (writing) {
              const end = Number((await watcher.sendCommand(['GET', cooldown])) ?? 0)
              if (end < latest) earlier += 1
              latest = Math.max(latest, end)
            }
          })()
          const ends = await Promise.all(
            group.map((replica, i) => replica.record(key, plans[i] ?? [])),
          )
          writing = false
          await watching
          const final = Number(await watcher.sendCommand(['GET', cooldown]))
          expect(earlier).toBe(0)
          expect(final).toBe(Math.max(...ends.flat().map(Number)))
        },
      ),
      { numRuns: 12, seed: 20_261_207 },
    )
    await closeAll(group)
  })
})
