/** @module A health store on Redis: cooldowns shared by every replica of an application. */
export { redisHealthStore } from './redis-health-store.js'
export type { RedisHealthStore } from './redis-health-store.js'
export { redisHealthDefaults } from './redis-health-options.js'
export type { RedisHealthStoreOptions } from './redis-health-options.js'
export type { CallClient, RedisClientLike, SendCommandClient } from './redis-client.js'
