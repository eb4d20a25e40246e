import { afterAll, describe, inject } from 'vitest'
import { randomBytes } from 'node:crypto'
import { RedisPresenceStore, RedisStateStore, createRedis } from '../../src/state/redis.js'
import { stateStoreContract } from './state-store-suite.js'

describe.runIf(inject('services').redis)('redis stores', () => {
  const redis = createRedis(inject('services').redisUrl)
  const prefix = `retrack-test:${randomBytes(4).toString('hex')}:`
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  stateStoreContract('redis', {
    state: async () => new RedisStateStore(redis, prefix),
    presence: async () => new RedisPresenceStore(redis, prefix, 60_000),
  })
})
