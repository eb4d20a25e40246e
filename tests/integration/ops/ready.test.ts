// /ready reflects what the node needs: in Redis mode it answers 503 while Redis is down, and /ready
// itself answers either way. (MQTT_CLUSTER=off: the broker's own Redis connections are another matter,
// see the ops report.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startNode, eventually, type TestNode } from '../../helpers/server.js'
import { privateRedis } from './run.js'

describe.runIf(inject('services').redisServer)('/ready in Redis mode', () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>
  let node: TestNode
  beforeAll(async () => {
    redis = await privateRedis()
    node = await startNode({ REDIS_URL: redis.url, MQTT_CLUSTER: 'off' })
  })
  afterAll(async () => { await node?.close(); await redis?.stop() })

  const ready = async () => {
    const res = await fetch(`${node.http}/ready`, { signal: AbortSignal.timeout(8000) })
    return { status: res.status, body: await res.json() as { status: string, checks: Record<string, boolean> } }
  }

  it('is 200 with Redis up and 503, naming redis, once it is down', async () => {
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: true, broker: true, redis: true } } })
    await redis.stop()
    const down = await eventually(async () => { const r = await ready(); return r.status === 503 ? r : undefined }, 5000, '/ready to say 503')
    expect(down.body).toEqual({ status: 'not ready', checks: { database: true, broker: true, redis: false } })
    expect((await fetch(`${node.http}/health`)).status).toBe(200)
  })
})
