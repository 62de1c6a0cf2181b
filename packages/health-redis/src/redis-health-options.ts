import { type Clock, parseConfig, systemClock } from '@understudy/core'
import * as z from 'zod'
import { type RedisClientLike, type SendCommand, toSendCommand } from './redis-client.js'

/** Options of {@link redisHealthStore}. */
export interface RedisHealthStoreOptions {
  /**
   * The application's Redis client, already connected: node-redis, ioredis,
   * or any object with `sendCommand(args: string[])` (the README says what it
   * must return). The store never connects, quits or closes it.
   */
  readonly redis: RedisClientLike
  /**
   * What every key of the store starts with; applications sharing one Redis
   * give each its own. No `{` or `}`: the store puts the target in braces
   * for Redis Cluster.
   * @default 'understudy:health:'
   */
  readonly prefix?: string
  /**
   * How long the store waits for Redis, in ms, before it goes on as if every
   * target were healthy. The most a call can wait longer because Redis is
   * slow or gone, once per outage. A positive number.
   * @default 500
   */
  readonly commandTimeoutMs?: number
  /**
   * How long a replica reuses the cooldowns it read, in ms: a cooldown set by
   * another replica is seen at most this much later (plus a round trip). `0`
   * reads Redis on every call.
   * @default 100
   */
  readonly cacheMs?: number
  /**
   * After Redis failed, how long the store waits before asking it again, in
   * ms. Calls in between do not wait on Redis at all. A positive number.
   * @default 1000
   */
  readonly retryMs?: number
  /**
   * Where the store reads the time for its cache and its retries, and sets
   * the command timeout. The cooldowns themselves are in the time the client
   * passes in (its `clock`), which every replica must share: `Date.now()`,
   * as `systemClock` gives it.
   * @default systemClock
   */
  readonly clock?: Clock
}

/** The store's options, checked, with every default filled in. */
export interface CheckedOptions {
  readonly send: SendCommand
  readonly prefix: string
  readonly commandTimeoutMs: number
  readonly cacheMs: number
  readonly retryMs: number
  readonly clock: Clock
}

/** The defaults of {@link RedisHealthStoreOptions}, named in one place. */
export const redisHealthDefaults: {
  readonly prefix: string
  readonly commandTimeoutMs: number
  readonly cacheMs: number
  readonly retryMs: number
} = Object.freeze({
  prefix: 'understudy:health:',
  commandTimeoutMs: 500,
  cacheMs: 100,
  retryMs: 1_000,
})

const clientMessage =
  'expected a Redis client: node-redis, ioredis, or an object with sendCommand(args: string[])'

const positiveMs = z.number().positive()

const optionsSchema = z.strictObject({
  redis: z.custom<RedisClientLike>((value) => toSendCommand(value) !== undefined, {
    message: clientMessage,
  }),
  prefix: z
    .string()
    .refine((prefix) => !/[{}]/.test(prefix), {
      message: 'expected no "{" or "}": the store puts the target in braces for Redis Cluster',
    })
    .optional(),
  commandTimeoutMs: positiveMs.optional(),
  cacheMs: z.number().nonnegative().optional(),
  retryMs: positiveMs.optional(),
  clock: z
    .custom<Clock>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        ['now', 'setTimeout', 'clearTimeout'].every(
          (name) => typeof Reflect.get(value, name) === 'function',
        ),
      { message: 'expected a clock: { now(), setTimeout(), clearTimeout() }' },
    )
    .optional(),
})

/**
 * Checks {@link redisHealthStore}'s options before any I/O; throws a
 * `ConfigError` naming the option (`redisHealthStore(options).cacheMs`).
 */
export function checkOptions(options: unknown): CheckedOptions {
  const path = 'redisHealthStore(options)'
  const checked = parseConfig(optionsSchema, options, path)
  return {
    send: toSendCommand(checked.redis) as SendCommand,
    prefix: checked.prefix ?? redisHealthDefaults.prefix,
    commandTimeoutMs: checked.commandTimeoutMs ?? redisHealthDefaults.commandTimeoutMs,
    cacheMs: checked.cacheMs ?? redisHealthDefaults.cacheMs,
    retryMs: checked.retryMs ?? redisHealthDefaults.retryMs,
    clock: checked.clock ?? systemClock,
  }
}
