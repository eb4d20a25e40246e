import { afterAll, describe, expect, inject, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { RedisPresenceStore, RedisStateStore, createRedis } from '../../src/state/redis.js'
import { emptyState } from '../../src/core/state.js'
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

  // a write Redis never got fails its caller at once: it never hangs the asset's lane
  it('rejects every write, alone or several at once, when Redis is gone', async () => {
    const gone = createRedis(inject('services').redisUrl)
    await gone.ping()
    gone.disconnect()
    const store = new RedisStateStore(gone, prefix)
    const state = (i: number) => emptyState('00000000-0000-4000-8000-000000000001', `dev_gone_${i}`)
    await expect(store.compareAndSet(state(0), 0)).rejects.toThrow(/closed/i)
    const many = await Promise.allSettled([store.compareAndSet(state(1), 0), store.compareAndSet(state(2), 0)])
    expect(many.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  })
})
