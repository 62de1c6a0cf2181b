import { healthStoreConformanceSuite } from '@understudy/testkit/vitest'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import { type RedisHealthStore, redisHealthStore } from './redis-health-store.js'
import { type RedisServer, startRedisServer } from './test-support/redis-server.js'

let server: RedisServer
let nodeRedis: ReturnType<typeof createClient>
let ioredis: Redis

beforeAll(async () => {
  server = await startRedisServer()
  nodeRedis = createClient({ url: server.url })
  await nodeRedis.connect()
  ioredis = new Redis(server.port, '127.0.0.1')
})

afterAll(async () => {
  nodeRedis.destroy()
  ioredis.disconnect()
  await server.stop()
})

const close = (store: unknown): Promise<void> => (store as RedisHealthStore).close()

healthStoreConformanceSuite('Redis store over node-redis', {
  store: () => redisHealthStore({ redis: nodeRedis }),
  close,
})

healthStoreConformanceSuite('Redis store over ioredis', {
  store: () => redisHealthStore({ redis: ioredis }),
  close,
})

healthStoreConformanceSuite('Redis store over a bare sendCommand', {
  store: () => redisHealthStore({ redis: { sendCommand: (args) => nodeRedis.sendCommand(args) } }),
  close,
})

healthStoreConformanceSuite('Redis store without its cache', {
  store: () => redisHealthStore({ redis: nodeRedis, cacheMs: 0 }),
  close,
})
