// Redis going away under a running node (state, bus and the broker's shared sessions all in it):
// the node stays up, says so once in a structured line, and carries on when Redis is back. Run as
// a child process: the failure this guards against killed the whole process within a second.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { logLines, privateRedis, start, type Running } from './run.js'

describe.runIf(inject('services').redisServer)('a Redis outage at runtime', () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>
  let node: Running
  beforeAll(async () => {
    redis = await privateRedis()
    node = start('src/main.ts', { REDIS_URL: redis.url, MQTT_CLUSTER: 'on', REDIS_KEY_PREFIX: 'retrack-outage:' })
    await node.waitFor(/^ReTrack is up/)
  }, 90_000)
  afterAll(async () => {
    if (node && node.child.exitCode === null) { node.child.kill('SIGTERM'); await node.ended }
    await redis?.stop()
  })

  it('keeps the node up, logs the outage once per connection and its end, and serves again', async () => {
    const http = logLines(node.out()).find((l) => /^ReTrack is up/.test(String(l['msg'])))?.['http']
    expect(typeof http).toBe('number')
    await redis.stop()
    await new Promise((r) => setTimeout(r, 3000))
    expect(node.child.exitCode, node.out()).toBeNull()
    const lost = logLines(node.out()).filter((l) => l['msg'] === 'Redis connection lost; reconnecting')
    expect(new Set(lost.map((l) => l['redis']))).toEqual(new Set(['state', 'bus publications', 'bus subscriptions', 'broker subscriptions', 'broker publications', 'broker sessions']))
    expect(lost.length).toBe(6)
    expect(node.out()).not.toMatch(/Unhandled error event/)
    await redis.restart()
    await node.waitFor(/^Redis connection restored$/, 30_000)
    expect((await fetch(`http://127.0.0.1:${String(http)}/ready`)).status).toBe(200)
  }, 60_000)
})
