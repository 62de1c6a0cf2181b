import { type HealthStore, isUnderstudyError } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { redisHealthStore } from './redis-health-store.js'
import { storeClock } from './test-support/store-clock.js'
import {
  clients,
  eventually,
  fakeUpstream,
  type HeardErrors,
  modelsSeen,
  nodeRedis,
  ownRedis,
  request,
  understudy,
} from './test-support/setup.js'

const thresholds = { minCalls: 2, failureRate: 0.5, windowMs: 60_000, cooldownMs: 60_000 }

/** A target key as core builds it: provider, model, base URL and key hash, joined by NUL. */
const target = (name: string): string => `openai\u0000${name}\u0000http://127.0.0.1/v1\u00001a2b`

/** Wraps a store so a test can wait for every record the client sent. */
function observed(store: HealthStore): HealthStore & {
  readonly keys: string[]
  settled(): Promise<unknown>
} {
  const records: unknown[] = []
  const keys: string[] = []
  return {
    cooldowns: (list, now) => store.cooldowns(list, now),
    record(key, record, limits) {
      keys.push(key)
      const done = store.record(key, record, limits)
      records.push(done)
      return done
    },
    keys,
    settled: () => Promise.allSettled(records),
  }
}

describe('redisHealthStore', () => {
  it('rejects bad options with a ConfigError naming the option, before any I/O', () => {
    const sent: string[][] = []
    const redis = {
      sendCommand: async (args: string[]) => {
        sent.push(args)
        return null
      },
    }
    const cases: [unknown, string][] = [
      [{}, 'redisHealthStore(options).redis'],
      [{ redis: { get: () => undefined } }, 'redisHealthStore(options).redis'],
      [{ redis, prefix: 'app:{x}:' }, 'redisHealthStore(options).prefix'],
      [{ redis, commandTimeoutMs: 0 }, 'redisHealthStore(options).commandTimeoutMs'],
      [{ redis, cacheMs: -1 }, 'redisHealthStore(options).cacheMs'],
      [{ redis, retryMs: Number.NaN }, 'redisHealthStore(options).retryMs'],
      [{ redis, clock: { now: () => 0 } }, 'redisHealthStore(options).clock'],
      [{ redis, cacheMS: 10 }, 'redisHealthStore(options)'],
    ]
    for (const [options, path] of cases) {
      let thrown: unknown
      try {
        redisHealthStore(options as Parameters<typeof redisHealthStore>[0])
      } catch (error) {
        thrown = error
      }
      expect(isUnderstudyError(thrown, 'config'), JSON.stringify(path)).toBe(true)
      expect(String((thrown as Error).message)).toContain(path)
    }
    expect(sent).toEqual([])
  })

  it('keeps one target in one hash slot, under keys that name it by its key hash, never its key', async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 429, retryAfter: '30' })
    const store = observed(redisHealthStore({ redis, prefix: 'app:' }))
    const fallback = {
      model: 'openai/gpt-4o-mini',
      baseURL: `${upstream.url}/v1`,
      apiKey: 'sk-fallback-secret-987654',
    }
    await understudy(upstream, store).complete(request, { fallbacks: [fallback] })
    await store.settled()
    const keys = (await redis.keys('*')).sort()
    // The primary's window and cooldown, the fallback's window (it succeeded: no cooldown). The
    // primary names neither base URL nor key: its provider's configured ones stand in.
    const where = `http://127.0.0.1:${new URL(upstream.url).port}/v1`
    const hashOf = (key: string | undefined): string => key?.match(/\|([0-9a-f]+)\}/)?.[1] ?? 'none'
    const [fallbackWindow, primaryCooldown, primaryWindow] = keys
    expect(keys).toEqual([
      `app:{openai|gpt-4o-mini|${where}|${hashOf(fallbackWindow)}}:window`,
      `app:{openai|gpt-4o|${where}|${hashOf(primaryCooldown)}}:cooldown`,
      `app:{openai|gpt-4o|${where}|${hashOf(primaryWindow)}}:window`,
    ])
    // Two keys, two hashes.
    expect(hashOf(primaryCooldown)).toBe(hashOf(primaryWindow))
    expect(hashOf(primaryCooldown)).not.toBe(hashOf(fallbackWindow))
    for (const key of keys) expect(key).not.toMatch(/secret/)
    // Both keys of a target carry the same tag: Redis Cluster hashes only what is inside the braces.
    const tags = new Set(keys.map((key) => key.slice(key.indexOf('{'), key.indexOf('}') + 1)))
    expect(tags.size).toBe(2)
  })

  it('records every failed attempt of a call, not only the first', async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const upstream = await fakeUpstream()
    upstream.respondAll({ status: 503 })
    const store = observed(redisHealthStore({ redis }))
    const client = understudy(upstream, store)
    await expect(
      client.complete(request, { fallbacks: ['openai/gpt-4o-mini', 'openai/gpt-4.1'] }),
    ).rejects.toMatchObject({ kind: 'all_failed' })
    await expect(
      client.complete(request, { fallbacks: ['openai/gpt-4o-mini', 'openai/gpt-4.1'] }),
    ).rejects.toMatchObject({ kind: 'all_failed' })
    await store.settled()
    const cooled = [...new Set(store.keys)]
    expect(cooled).toHaveLength(3)
    // Another replica's store, reading Redis afresh.
    const other = redisHealthStore({ redis, cacheMs: 0 })
    const ends = await other.cooldowns(cooled, Date.now())
    expect(ends.filter((end) => end !== undefined)).toHaveLength(3)
  })

  it("skips a target another replica's store cooled", async () => {
    const server = await ownRedis()
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 503 })
    const first = observed(redisHealthStore({ redis: await nodeRedis(server) }))
    const a = understudy(upstream, first)
    await a.complete(request)
    await a.complete(request)
    await first.settled()
    const b = understudy(upstream, redisHealthStore({ redis: await nodeRedis(server) }))
    const response = await b.complete(request)
    expect(response.attempts.map((attempt) => attempt.outcome)).toEqual(['skipped', 'ok'])
    expect(modelsSeen(upstream)).toEqual([
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4o-mini',
    ])
  })

  it('keeps apart the cooldowns of applications whose providers use other keys, on one Redis', async () => {
    const server = await ownRedis()
    const upstream = await fakeUpstream()
    upstream.script('gpt-4o', { status: 503 })
    const onKeyA = observed(redisHealthStore({ redis: await nodeRedis(server) }))
    const a = understudy(upstream, onKeyA, undefined, 'sk-team-a-0123456789')
    await a.complete(request)
    await a.complete(request)
    await onKeyA.settled()
    expect((await a.complete(request)).attempts[0]?.outcome).toBe('skipped')
    /** The first call of another client: its own store and connection on the same Redis, its provider on `apiKey`. */
    const firstOutcome = async (apiKey: string): Promise<string | undefined> => {
      const store = redisHealthStore({ redis: await nodeRedis(server) })
      return (await understudy(upstream, store, undefined, apiKey).complete(request)).attempts[0]
        ?.outcome
    }
    // Another application, its provider on another key: the primary is its own, and is tried.
    expect(await firstOutcome('sk-team-b-0123456789')).toBe('error')
    // A replica of the first, on the same key: it skips what the first cooled.
    expect(await firstOutcome('sk-team-a-0123456789')).toBe('skipped')
  })

  it('does not make the call wait for its records', async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const held: (() => void)[] = []
    // A client that holds every script reply until the test lets it go.
    const holding = {
      sendCommand: async (args: string[]) => {
        const reply = await redis.sendCommand(args)
        if (args[0]?.startsWith('EVAL')) await new Promise<void>((resolve) => held.push(resolve))
        return reply
      },
    }
    const upstream = await fakeUpstream()
    const store = observed(redisHealthStore({ redis: holding }))
    const response = await understudy(upstream, store).complete(request)
    expect(response.target).toBe('openai/gpt-4o')
    expect(await eventually(async () => held.length === 1)).toBe(true)
    for (const release of held) release()
    await store.settled()
  })

  it('stops sending successes while 256 records are in flight, never failures', async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const held: (() => void)[] = []
    let holding = true
    let scripts = 0
    const client = {
      sendCommand: async (args: string[]) => {
        if (args[0] === 'EVALSHA') scripts += 1
        if (holding) await new Promise<void>((resolve) => held.push(resolve))
        return redis.sendCommand(args)
      },
    }
    const store = redisHealthStore({ redis: client, commandTimeoutMs: 10_000 })
    const at = Date.now()
    const records = Array.from({ length: 300 }, (_, i) =>
      store.record(target(`t${i}`), { at, ok: true }, thresholds),
    )
    records.push(
      store.record(target('failing'), { at, ok: false, retryAfterMs: 5_000 }, thresholds),
    )
    expect(scripts).toBe(257)
    holding = false
    for (const release of held) release()
    await Promise.all(records)
    expect(
      await redisHealthStore({ redis, cacheMs: 0 }).cooldowns([target('failing')], at),
    ).toEqual([at + 5_000])
    // Once they have landed, successes are sent again.
    await store.record(target('t0'), { at, ok: true }, thresholds)
    expect(scripts).toBe(258)
  })

  it("learns a plan's cooldowns in one round trip, and in none while its cache holds them", async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const log: string[] = []
    const counting = {
      sendCommand: async (args: string[]) => {
        log.push(`send ${args[0]}`)
        const reply = await redis.sendCommand(args)
        log.push(`reply ${args[0]}`)
        return reply
      },
    }
    const clock = storeClock()
    const store = redisHealthStore({ redis: counting, cacheMs: 1_000, clock })
    const plan = [target('a'), target('b'), target('c')]
    await store.cooldowns(plan, Date.now())
    // Every read sent before the first answer came back: one round trip.
    expect(log).toEqual(['send GET', 'send GET', 'send GET', 'reply GET', 'reply GET', 'reply GET'])
    const answer = store.cooldowns(plan, Date.now())
    expect(Array.isArray(answer)).toBe(true)
    expect(log).toHaveLength(6)
    clock.skip(1_000)
    await store.cooldowns(plan, Date.now())
    expect(log).toHaveLength(12)
  })

  it('shares one read among the calls in flight', async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    let gets = 0
    const counting = {
      sendCommand: (args: string[]) => {
        if (args[0] === 'GET') gets += 1
        return redis.sendCommand(args)
      },
    }
    const store = redisHealthStore({ redis: counting })
    const plan = [target('a'), target('b')]
    await Promise.all(Array.from({ length: 64 }, () => store.cooldowns(plan, Date.now())))
    expect(gets).toBe(2)
  })

  it('never keeps a cooldown past its end, however long its cache', async () => {
    const server = await ownRedis()
    const store = redisHealthStore({ redis: await nodeRedis(server), cacheMs: 3_600_000 })
    const key = target('a')
    const at = Date.now()
    await store.record(key, { at, ok: false, retryAfterMs: 1_000 }, thresholds)
    expect(await store.cooldowns([key], at + 999)).toEqual([at + 1_000])
    expect((await store.cooldowns([key], at + 1_000))[0]).toBeUndefined()
  })

  it("sees another replica's cooldown once its cache is cacheMs old", async () => {
    const server = await ownRedis()
    const clock = storeClock()
    const reader = redisHealthStore({ redis: await nodeRedis(server), cacheMs: 100, clock })
    const writer = redisHealthStore({ redis: await nodeRedis(server) })
    const key = target('a')
    const at = Date.now()
    expect((await reader.cooldowns([key], at))[0]).toBeUndefined()
    await writer.record(key, { at, ok: false, retryAfterMs: 30_000 }, thresholds)
    expect((await reader.cooldowns([key], at))[0]).toBeUndefined()
    clock.skip(100)
    expect(await reader.cooldowns([key], at)).toEqual([at + 30_000])
  })

  it("refreshes a cooldown key's TTL when the target cools again, never shortens it", async () => {
    const server = await ownRedis()
    const redis = await nodeRedis(server)
    const store = redisHealthStore({ redis })
    const key = target('a')
    const at = Date.now()
    await store.record(key, { at, ok: false, retryAfterMs: 10_000 }, thresholds)
    const [cooldownKey] = await redis.keys('*:cooldown')
    const first = await redis.pTTL(cooldownKey as string)
    expect(first).toBeGreaterThan(9_000)
    await store.record(key, { at, ok: false, retryAfterMs: 2_000 }, thresholds)
    expect(await redis.pTTL(cooldownKey as string)).toBeGreaterThan(first - 1_000)
    await store.record(key, { at, ok: false, retryAfterMs: 50_000 }, thresholds)
    expect(await redis.pTTL(cooldownKey as string)).toBeGreaterThan(40_000)
  })
})

describe.each(Object.entries(clients))(
  'redisHealthStore over %s when Redis fails',
  (_name, connect) => {
    const faulty = async () => {
      const server = await ownRedis()
      const upstream = await fakeUpstream()
      const clock = storeClock()
      const heard: HeardErrors = { errors: [] }
      const store = redisHealthStore({
        redis: await connect(server),
        commandTimeoutMs: 200,
        // Long enough that a loaded machine's ten calls stay inside one outage window; tests skip past it.
        retryMs: 2_000,
        clock,
      })
      const client = understudy(upstream, store, heard)
      // Cool the primary, through this replica, for a minute.
      upstream.script('gpt-4o', { status: 429, retryAfter: '60' }, { text: 'the primary is back' })
      await client.complete(request)
      expect(
        await eventually(
          async () => (await client.complete(request)).attempts[0]?.outcome === 'skipped',
        ),
      ).toBe(true)
      return { server, upstream, clock, heard, store, client }
    }

    /** Times `calls` calls one after another; returns each one's duration in ms and its outcomes. */
    const timed = async (
      client: ReturnType<typeof understudy>,
      calls: number,
    ): Promise<{ readonly ms: number[]; readonly outcomes: string[][] }> => {
      const ms: number[] = []
      const outcomes: string[][] = []
      for (let i = 0; i < calls; i++) {
        const began = performance.now()
        const response = await client.complete(request)
        ms.push(performance.now() - began)
        outcomes.push(response.attempts.map((attempt) => attempt.outcome))
      }
      return { ms, outcomes }
    }

    it('goes on as if every target were healthy while Redis is frozen, saying so once, and resumes after', async () => {
      const { server, heard, client, store, clock } = await faulty()
      server.pause()
      // Past the cache: the next call asks Redis.
      clock.skip(100)
      const { ms, outcomes } = await timed(client, 10)
      // Fail open: the cooled primary is tried, and answers.
      expect(outcomes.every((each) => each[0] === 'ok')).toBe(true)
      // One call waits out the command timeout (200 ms); the others do not wait on Redis.
      expect(ms.filter((each) => each >= 200).length).toBeLessThanOrEqual(1)
      expect(Math.max(...ms)).toBeLessThan(1_000)
      expect(heard.errors).toHaveLength(1)
      expect(heard.errors[0]?.hook).toBe('health')
      expect(isUnderstudyError(heard.errors[0]?.error, 'timeout')).toBe(true)
      server.resume()
      clock.skip(2_000)
      expect(
        await eventually(
          async () => (await client.complete(request)).attempts[0]?.outcome === 'skipped',
        ),
      ).toBe(true)
      expect(heard.errors).toHaveLength(1)
      await store.close()
      expect(clock.live()).toBe(0)
    })

    it('goes on while Redis is killed, and shares cooldowns again once it is back, empty', async () => {
      const { server, heard, client, upstream, clock } = await faulty()
      await server.kill()
      clock.skip(100)
      const { ms, outcomes } = await timed(client, 10)
      expect(outcomes.every((each) => each[0] === 'ok')).toBe(true)
      expect(Math.max(...ms)).toBeLessThan(1_000)
      expect(heard.errors).toHaveLength(1)
      expect(heard.errors[0]?.hook).toBe('health')
      await server.restart()
      // The new server holds no cooldown and no script: the primary fails, is recorded with EVAL, and cools.
      upstream.script('gpt-4o', { status: 429, retryAfter: '60' })
      clock.skip(2_000)
      expect(
        await eventually(async () => {
          clock.skip(2_000)
          return (await client.complete(request)).attempts[0]?.outcome === 'skipped'
        }),
      ).toBe(true)
      expect(heard.errors).toHaveLength(1)
      expect(await (await nodeRedis(server)).keys('*:cooldown')).toHaveLength(1)
    })

    it('loads its script again after SCRIPT FLUSH, without a word to onHookError', async () => {
      const server = await ownRedis()
      const redis = await nodeRedis(server)
      const store = redisHealthStore({ redis: await connect(server) })
      const at = Date.now()
      await store.record(target('a'), { at, ok: false, retryAfterMs: 5_000 }, thresholds)
      await redis.scriptFlush()
      await expect(
        store.record(target('b'), { at, ok: false, retryAfterMs: 7_000 }, thresholds),
      ).resolves.toBeUndefined()
      const fresh = redisHealthStore({ redis, cacheMs: 0 })
      expect(await fresh.cooldowns([target('a'), target('b')], at)).toEqual([
        at + 5_000,
        at + 7_000,
      ])
    })

    it('closes within commandTimeoutMs with a command stuck on a frozen Redis, leaving no timer', async () => {
      const server = await ownRedis()
      const clock = storeClock()
      const store = redisHealthStore({ redis: await connect(server), commandTimeoutMs: 300, clock })
      server.pause()
      const settle = (promise: unknown): Promise<unknown> =>
        Promise.resolve(promise).then(
          (value) => value,
          (error: unknown) => error,
        )
      const recorded = settle(store.record(target('a'), { at: Date.now(), ok: false }, thresholds))
      const read = settle(store.cooldowns([target('b')], Date.now()))
      const began = performance.now()
      await store.close()
      expect(performance.now() - began).toBeLessThan(1_000)
      expect(clock.live()).toBe(0)
      // The first to time out starts the outage and is the one reported; the other fails open quietly.
      const settled = await Promise.all([recorded, read])
      expect(settled.filter((each) => isUnderstudyError(each, 'timeout'))).toHaveLength(1)
      expect(settled).toContainEqual([])
      // Closed: no more commands, every target healthy.
      expect(store.cooldowns([target('a')], Date.now())).toEqual([])
      server.resume()
    })
  },
)
