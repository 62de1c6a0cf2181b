import { describe, it } from 'vitest'
import { expectEntryExports } from '../../../test-support/entry-exports.js'
import * as api from './index.js'

/**
 * Everything `@understudy/health-redis` publishes: the store's factory, its
 * defaults, and the types of its options, its result and the client shapes
 * it recognises. The keys, the Lua script and the command layer stay inside.
 */
const publicAPI = [
  'redisHealthDefaults',
  'redisHealthStore',
  'type CallClient',
  'type RedisClientLike',
  'type RedisHealthStore',
  'type RedisHealthStoreOptions',
  'type SendCommandClient',
]

describe('@understudy/health-redis', () => {
  it('exports exactly its written public API', () => {
    expectEntryExports(new URL('./index.ts', import.meta.url), api, publicAPI)
  })
})
