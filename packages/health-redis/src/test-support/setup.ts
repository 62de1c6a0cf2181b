import {
  type ChatRequest,
  createClient as createUnderstudy,
  type HealthStore,
  type HookName,
} from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import { type FakeServer, startFakeOpenAI } from '@understudy/testkit'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { onTestFinished } from 'vitest'
import { type RedisServer, startRedisServer } from './redis-server.js'

/** What the tests use of a node-redis client. */
export interface NodeRedis {
  sendCommand(args: string[]): Promise<unknown>
  keys(pattern: string): Promise<string[]>
  pTTL(key: string): Promise<number>
  scriptFlush(): Promise<unknown>
}

/** A `redis-server` of the test's own, stopped when the test ends. */
export async function ownRedis(): Promise<RedisServer> {
  const server = await startRedisServer()
  onTestFinished(() => server.stop())
  return server
}

/** A connected node-redis client, destroyed when the test ends. */
export async function nodeRedis(server: RedisServer): Promise<NodeRedis> {
  // It never gives up reconnecting, so a test can kill and restart the server under it.
  const client = createClient({
    url: server.url,
    socket: { reconnectStrategy: () => 50, connectTimeout: 1_000 },
  })
  // A client with no error listener throws on a lost connection; the store is what the test watches.
  client.on('error', () => undefined)
  await client.connect()
  onTestFinished(() => {
    client.destroy()
  })
  return client
}

/** A connected ioredis client, disconnected when the test ends; it reconnects every 50 ms. */
export async function ioredis(server: RedisServer): Promise<Redis> {
  const client = new Redis(server.port, '127.0.0.1', { retryStrategy: () => 50 })
  client.on('error', () => undefined)
  await client.ping()
  onTestFinished(() => {
    client.disconnect()
  })
  return client
}

/** A connected client of either kind, as the fault tests run each. */
export const clients: Readonly<
  Record<'node-redis' | 'ioredis', (server: RedisServer) => Promise<NodeRedis | Redis>>
> = {
  'node-redis': nodeRedis,
  ioredis: ioredis,
}

/** A fake OpenAI server whose `gpt-4o` answers `primary`'s replies and `gpt-4o-mini` succeeds. */
export async function fakeUpstream(): Promise<FakeServer> {
  const server = await startFakeOpenAI()
  onTestFinished(() => server.close())
  return server
}

/** What `onHookError` heard, in order. */
export interface HeardErrors {
  readonly errors: { readonly error: unknown; readonly hook: HookName }[]
}

/**
 * An Understudy client on `upstream` whose health store is `store`: primary
 * gpt-4o, fallback gpt-4o-mini, its `openai()` provider configured with `apiKey`.
 */
export function understudy(
  upstream: FakeServer,
  store: HealthStore,
  heard: HeardErrors = { errors: [] },
  apiKey = 'sk-test-secret-0123456789',
): ReturnType<typeof createUnderstudy> {
  return createUnderstudy({
    providers: [openai({ baseURL: `${upstream.url}/v1`, apiKey })],
    retries: 0,
    fallbacks: ['openai/gpt-4o-mini'],
    health: { store, minCalls: 2, failureRate: 0.5, cooldownMs: 60_000 },
    hooks: {
      onHookError: (error, hook) => {
        heard.errors.push({ error, hook })
      },
    },
  })
}

export const request: ChatRequest = {
  model: 'openai/gpt-4o',
  messages: [{ role: 'user' as const, content: 'hi' }],
}

/** The models of the requests `upstream` received, in order. */
export const modelsSeen = (upstream: FakeServer): string[] =>
  upstream.requests.map((each) => String((each.body as { model?: unknown }).model))

/** Polls `probe` every 20 ms until it returns true, for at most `ms`. */
export async function eventually(probe: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await probe()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return false
}
