import {
  type HealthRecord,
  type HealthStore,
  type HealthThresholds,
  isUnderstudyError,
} from '@understudy/core'
import { healthKeys } from './health-keys.js'
import { redisCommands } from './redis-commands.js'
import { checkOptions, type RedisHealthStoreOptions } from './redis-health-options.js'
import { storeError } from './store-error.js'

/** A health store on Redis, shared by every replica that points at the same Redis and prefix. */
export interface RedisHealthStore extends HealthStore {
  cooldowns(
    keys: readonly string[],
    now: number,
  ): readonly (number | undefined)[] | Promise<readonly (number | undefined)[]>
  /**
   * Sends the outcome to Redis; the call that made it does not wait. Resolves
   * once Redis has it (or the store gave up on it), which tests and `close()`
   * wait for. Rejects only with the first error of an outage.
   */
  record(key: string, record: HealthRecord, thresholds: HealthThresholds): Promise<void>
  /**
   * Stops sending: later calls see every target as healthy and records are
   * dropped. Resolves when the commands already sent have settled (each
   * within `commandTimeoutMs`), leaving no timer of the store's behind. The
   * Redis client is the application's: the store never closes it.
   */
  close(): Promise<void>
}

/** What the store last learned of one target's cooldown, and when (the store's clock). */
interface Cached {
  readonly end: number
  readonly readAt: number
}

/**
 * Records in flight past which a success is not sent: calls faster than Redis
 * would queue records without end, and the plan's reads behind them. A
 * failure is always sent, as it is what cools a target, and a cooled target
 * is skipped, which stops its records. With 64 calls in flight on an instant
 * provider (bench/), the p50 call went from 0.4–0.5 ms to 0.19–0.24 ms with
 * this bound; a real provider's calls are far slower than Redis and never
 * reach it.
 */
const maxRecordsInFlight = 256

/** The most targets whose cooldowns a replica keeps; past it the cache starts over. */
const maxCachedTargets = 10_000

const nothingCooling: readonly (number | undefined)[] = Object.freeze([])

/**
 * A health store on Redis: every replica that uses the same Redis and
 * `prefix` skips the targets any of them found failing, for as long as the
 * thresholds of the client that recorded the failure say. The rules are
 * core's in-memory store's, run atomically in a Lua script.
 *
 * A call learns its plan's cooldowns in one round trip at most (none when
 * the short local cache still holds them); its outcomes are sent without the
 * call waiting. When Redis is down or slow, calls go on as if every target
 * were healthy: the first failure is reported once through `onHookError`,
 * and the store asks Redis again every `retryMs` until it answers.
 *
 * @throws ConfigError for bad options, before any I/O.
 * @example
 * const health = redisHealthStore({ redis: await createClient({ url }).connect() })
 * const client = createClient({ providers: [openai()], health: { store: health } })
 */
export function redisHealthStore(options: RedisHealthStoreOptions): RedisHealthStore {
  const { send, prefix, commandTimeoutMs, cacheMs, retryMs, clock } = checkOptions(options)
  const commands = redisCommands(send, commandTimeoutMs, clock)
  const cache = new Map<string, Cached>()
  const reading = new Map<string, Promise<void>>()
  let closed = false
  let recordsInFlight = 0
  /** Whether Redis failed and has not answered since; when so, the next time to ask it again. */
  let down = false
  let retryAt = 0

  const remember = (target: string, end: number): void => {
    if (cache.size >= maxCachedTargets && !cache.has(target)) cache.clear()
    cache.set(target, { end, readAt: clock.now() })
  }

  /** Marks Redis down; returns the error to report when this starts an outage, else `undefined`. */
  const failed = (error: unknown): unknown => {
    retryAt = clock.now() + retryMs
    if (down) return undefined
    down = true
    reading.clear()
    // The store's own errors (timeout, unreadable reply) as they are; the client's, wrapped.
    return isUnderstudyError(error)
      ? error
      : storeError('network', 'Redis refused a command', error)
  }

  const answered = (): void => {
    down = false
  }

  /** Reads the cooldowns of `targets` into the cache, sharing a read already under way. */
  const read = (targets: readonly string[]): Promise<unknown> => {
    const reads: Promise<void>[] = []
    for (const target of targets) {
      let pending = reading.get(target)
      if (pending === undefined) {
        const started = commands.get(healthKeys(prefix, target).cooldown).then((text) => {
          remember(target, parseEnd(text, 'GET'))
        })
        const forget = (): void => {
          if (reading.get(target) === started) reading.delete(target)
        }
        started.then(forget, forget)
        reading.set(target, started)
        pending = started
      }
      reads.push(pending)
    }
    return Promise.all(reads).then(answered)
  }

  const fromCache = (targets: readonly string[], now: number): readonly (number | undefined)[] => {
    let ends: (number | undefined)[] | undefined
    for (let i = 0; i < targets.length; i++) {
      const end = cache.get(targets[i] as string)?.end ?? 0
      if (end <= now) continue
      ends ??= new Array<number | undefined>(targets.length).fill(undefined)
      ends[i] = end
    }
    return ends ?? nothingCooling
  }

  return Object.freeze({
    cooldowns(
      targets: readonly string[],
      now: number,
    ): readonly (number | undefined)[] | Promise<readonly (number | undefined)[]> {
      if (closed || targets.length === 0) return nothingCooling
      const time = clock.now()
      if (down) {
        // Fail open at once; one call per retryMs asks Redis again, without waiting for it.
        if (time >= retryAt) {
          retryAt = time + retryMs
          read(targets).then(undefined, (error: unknown) => failed(error))
        }
        return nothingCooling
      }
      let stale: string[] | undefined
      for (const target of targets) {
        const cached = cache.get(target)
        if (cached !== undefined && time - cached.readAt < cacheMs) continue
        stale ??= []
        stale.push(target)
      }
      if (stale === undefined) return fromCache(targets, now)
      return read(stale).then(
        () => fromCache(targets, now),
        (error: unknown) => {
          const report = failed(error)
          // Core reports a rejection through onHookError and takes every target as healthy.
          if (report !== undefined) throw report
          return nothingCooling
        },
      )
    },

    record(target: string, record: HealthRecord, thresholds: HealthThresholds): Promise<void> {
      if (closed || down) return Promise.resolve()
      if (record.ok && recordsInFlight >= maxRecordsInFlight) return Promise.resolve()
      recordsInFlight += 1
      const keys = healthKeys(prefix, target)
      const args = [
        String(record.at),
        record.ok ? '1' : '0',
        record.retryAfterMs === undefined ? '' : String(record.retryAfterMs),
        String(thresholds.minCalls),
        String(thresholds.failureRate),
        String(thresholds.windowMs),
        String(thresholds.cooldownMs),
        // The window before the current one still counts, so the counts live two windows.
        String(Math.max(1, Math.ceil(2 * thresholds.windowMs))),
      ]
      return commands
        .evalRecord([keys.window, keys.cooldown], args)
        .then((reply) => parseEnd(reply, 'the record script'))
        .then(
          (end) => {
            recordsInFlight -= 1
            remember(target, end)
            answered()
          },
          (error: unknown) => {
            recordsInFlight -= 1
            const report = failed(error)
            if (report !== undefined) throw report
          },
        )
    },

    async close(): Promise<void> {
      closed = true
      await commands.settled()
      cache.clear()
    },
  })
}

/** A cooldown's end as Redis holds it (a decimal string), or 0 for none. */
function parseEnd(reply: unknown, what: string): number {
  if (reply === undefined || reply === null) return 0
  const end = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN
  if (!Number.isFinite(end))
    throw storeError('unknown', `${what} answered something other than a time`)
  return end
}
