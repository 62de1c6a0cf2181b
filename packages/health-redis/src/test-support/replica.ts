/**
 * @module One replica of an application, in a process of its own: an
 * Understudy client whose health store is the Redis store, driven by the
 * test that forked it over IPC. Started by `replicas.ts` with its options
 * as JSON in `UNDERSTUDY_REPLICA`; it exits by itself once told to close,
 * which proves the store left nothing running.
 */
import {
  type Clock,
  createClient as createUnderstudy,
  type HealthStore,
  type HealthThresholds,
  type Provider,
} from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import { redisHealthStore } from '../redis-health-store.js'

/** What a replica is started with. */
export interface ReplicaOptions {
  readonly redisPort: number
  readonly upstream: string
  readonly client: 'node-redis' | 'ioredis'
  /** Virtual ms per real ms of the client's clock, from `epoch`: 30 makes a 30 s Retry-After last 1 s. */
  readonly speed: number
  readonly epoch: number
  readonly thresholds: HealthThresholds
}

/** What the test asks a replica. */
export type ReplicaCommand =
  | { readonly type: 'call'; readonly id: number }
  | { readonly type: 'ends'; readonly id: number; readonly keys: readonly string[] }
  | {
      readonly type: 'record'
      readonly id: number
      readonly key: string
      /** Failures to record one after another, each with its Retry-After and a real pause before it. */
      readonly failures: readonly { readonly retryAfterMs: number; readonly pauseMs: number }[]
    }
  | { readonly type: 'close'; readonly id: number }

/** What a replica answers, under the command's `id`. */
export interface ReplicaAnswer {
  readonly id: number
  /** `call`: each attempt's outcome; `startedAt`/`endedAt` in the client's (virtual) time. */
  readonly outcomes?: readonly string[]
  readonly startedAt?: number
  /**
   * `call`: when the primary was sent its request, if it was. Read after core
   * decided to try it, so it is never earlier than the instant core saw the
   * target ready; `startedAt` is read before, and may be a clock tick earlier.
   */
  readonly primaryTriedAt?: number
  /** `call`: the health keys of its plan, as core handed them to the store; the primary's first. */
  readonly keys?: readonly string[]
  readonly endedAt?: number
  /** `ends`: what the store says of the keys; `record`: each failure's `at + retryAfterMs`. */
  readonly ends?: readonly (number | null)[]
  readonly error?: string
}

const options = JSON.parse(process.env.UNDERSTUDY_REPLICA ?? '') as ReplicaOptions

const clock: Clock = {
  now: () => options.epoch + (Date.now() - options.epoch) * options.speed,
  setTimeout: (callback, ms) => setTimeout(callback, ms / options.speed),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
}

const url = `redis://127.0.0.1:${options.redisPort}`
// Only the client this replica uses is loaded: each takes a while to import on a busy machine.
const nodeRedis =
  options.client === 'node-redis'
    ? await (await import('redis')).createClient({ url }).connect()
    : undefined
const io =
  options.client === 'ioredis'
    ? new (await import('ioredis')).Redis(options.redisPort, '127.0.0.1')
    : undefined
const redis = nodeRedis ?? io
if (redis === undefined) throw new Error(`unknown client ${options.client}`)
const store = redisHealthStore({ redis })
let keysAsked: readonly string[] = []
/** The Redis store as the client sees it, noting the keys core asks it about. */
const noting: HealthStore = {
  cooldowns: (keys, now) => {
    keysAsked = keys.slice()
    return store.cooldowns(keys, now)
  },
  record: (key, outcome, thresholds) => store.record(key, outcome, thresholds),
}
const upstream = openai({ baseURL: `${options.upstream}/v1`, apiKey: 'sk-replica-key' })
let primaryTriedAt: number | undefined
/** The upstream provider, noting when the primary is sent a request. */
const provider: Provider = {
  ...upstream,
  complete: (request, context) => {
    if (request.model === 'gpt-4o') primaryTriedAt = clock.now()
    return upstream.complete(request, context)
  },
}
const client = createUnderstudy({
  providers: [provider],
  retries: 0,
  fallbacks: ['openai/gpt-4o-mini'],
  clock,
  health: { store: noting, ...options.thresholds },
})
const request = { model: 'openai/gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] }

async function answer(command: ReplicaCommand): Promise<ReplicaAnswer> {
  switch (command.type) {
    case 'call': {
      primaryTriedAt = undefined
      const startedAt = clock.now()
      const response = await client.complete(request)
      return {
        id: command.id,
        outcomes: response.attempts.map((attempt) => attempt.outcome),
        startedAt,
        ...(primaryTriedAt === undefined ? {} : { primaryTriedAt }),
        keys: keysAsked,
        endedAt: clock.now(),
      }
    }
    case 'ends': {
      const ends = await store.cooldowns(command.keys, clock.now())
      return { id: command.id, ends: command.keys.map((_, i) => ends[i] ?? null) }
    }
    case 'record': {
      const sent: Promise<void>[] = []
      const ends: number[] = []
      for (const failure of command.failures) {
        await new Promise((resolve) => setTimeout(resolve, failure.pauseMs))
        const at = clock.now()
        ends.push(at + failure.retryAfterMs)
        sent.push(
          store.record(
            command.key,
            { at, ok: false, retryAfterMs: failure.retryAfterMs },
            options.thresholds,
          ),
        )
      }
      await Promise.all(sent)
      return { id: command.id, ends }
    }
    case 'close': {
      await store.close()
      nodeRedis?.destroy()
      io?.disconnect()
      process.off('message', onMessage)
      return { id: command.id }
    }
    default:
      return command satisfies never
  }
}

function onMessage(message: unknown): void {
  const command = message as ReplicaCommand
  answer(command).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ id: command.id, error: String(error) }),
  )
}

process.on('message', onMessage)
process.send?.({ id: 0 })
