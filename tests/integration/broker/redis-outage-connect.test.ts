// A clustered node (its broker's sessions and fan-out in Redis) while Redis is away, Redis reached
// through a TCP proxy the test cuts: a device's CONNECT is refused at once with return code 3
// (server unavailable, which devices retry) instead of going unanswered for ~10 s while Aedes waits
// for the session in Redis, that is logged once for the outage rather than once per CONNECT, and
// the device connects again once Redis is back. A SIGTERM during an outage stops the node cleanly
// and at once: mqemitter-redis' close used to wait ~10 s for its connections' quit and then die of
// its unhandled rejection. Run as a child process, which is what dies, and whose log is read.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { Redis } from 'ioredis'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { createPostgresDatabase, seedTenantWithDevices } from '../../helpers/databases.js'
import { TEST_JWT_SECRET } from '../../helpers/app.js'
import { tcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js'
import { logLines, start, type Running } from '../ops/run.js'

const services = inject('services')
const REFUSING = 'broker Redis unavailable: refusing MQTT connections (return code 3) until it is back'

describe.runIf(services.postgres && services.redis)('a clustered broker during a Redis outage', () => {
  const tenant = 'brokerout'
  const device = { id: `dev_brokerout${'0'.repeat(7)}`, secret: 'brokerout-outage-secret-0123456789' }
  const prefix = `retrack-brokerout-${randomBytes(4).toString('hex')}:`
  let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined
  let redis: Redis | undefined
  let proxy: TcpProxy
  let node: Running
  let mqttPort = 0
  const clients: MqttClient[] = []

  /** One CONNECT, no retry: its CONNACK's return code (0 accepted) and how long it took. */
  const connectOnce = (extra: IClientOptions = {}) => new Promise<{ rc: number, ms: number }>((resolve, reject) => {
    const began = Date.now()
    const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: device.id, username: tenant, password: device.secret, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 15_000, ...extra,
    })
    clients.push(client)
    client.once('connect', (connack) => { resolve({ rc: connack.returnCode ?? 0, ms: Date.now() - began }); client.end(true) })
    client.once('error', (err) => {
      const code = (err as Error & { code?: number }).code
      if (typeof code === 'number') resolve({ rc: code, ms: Date.now() - began })
      else reject(err)
      client.end(true)
    })
    client.once('close', () => reject(new Error(`closed without a CONNACK after ${Date.now() - began} ms`)))
  })

  beforeAll(async () => {
    database = await createPostgresDatabase()
    await seedTenantWithDevices(database.url, { slug: tenant, adminEmail: `a@${tenant}.test`, password: 'password123' }, [device])
    const target = new URL(services.redisUrl)
    redis = new Redis(services.redisUrl)
    proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
    node = start('src/main.ts', {
      NODE_ENV: 'production', DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_KEY_PREFIX: prefix,
      MQTT_CLUSTER: 'on', JWT_SECRET: TEST_JWT_SECRET, SHUTDOWN_TIMEOUT_MS: '30000',
    })
    mqttPort = Number((await node.waitFor(/^ReTrack is up/))['mqtt'])
  }, 120_000)

  afterAll(async () => {
    for (const c of clients) c.end(true)
    if (node && node.child.exitCode === null && node.child.signalCode === null) { node.child.kill('SIGKILL'); await node.ended }
    await proxy?.close()
    if (redis) {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    }
    await database?.drop()
  })

  it('refuses a CONNECT at once with return code 3, logs that once, and accepts the device again when Redis is back', { timeout: 60_000 }, async () => {
    // a persistent session, so that the CONNECT after the outage reads it from Redis
    expect(await connectOnce({ clean: false })).toMatchObject({ rc: 0 })

    await proxy.cut()
    await node.waitFor(/^Redis connection lost; reconnecting$/, 5000)
    const refused = []
    for (let i = 0; i < 3; i++) refused.push(await connectOnce({ clean: false }))
    for (const r of refused) {
      expect(r.rc).toBe(3)
      expect(r.ms).toBeLessThan(1000)
    }
    const lines = logLines(node.out())
    expect(lines.filter((l) => l['msg'] === REFUSING)).toHaveLength(1)
    expect(lines.filter((l) => l['msg'] === 'mqtt connection refused')).toEqual([])

    await proxy.open()
    const back = Date.now()
    let accepted: { rc: number, ms: number } | undefined
    while (Date.now() - back < 30_000) {
      accepted = await connectOnce({ clean: false })
      if (accepted.rc === 0) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(accepted).toMatchObject({ rc: 0 })
    await node.waitFor(/^broker Redis back: accepting MQTT connections again$/, 1000)
    const metrics = await (await fetch(`http://127.0.0.1:${String(logLines(node.out()).find((l) => /^ReTrack is up/.test(String(l['msg'])))?.['http'])}/metrics`)).text()
    expect(metrics).toMatch(/^retrack_mqtt_auth_failures_total\{reason="broker_unavailable"\} [1-9]/m)
  })

  it('stops cleanly and at once on SIGTERM during an outage', { timeout: 60_000 }, async () => {
    // a device connected and subscribed: the broker has subscriptions to drop and a client to close
    const connected = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: device.id, username: tenant, password: device.secret, protocolVersion: 4, reconnectPeriod: 0, clean: false,
    })
    clients.push(connected)
    await connected.subscribeAsync(`tenants/${tenant}/devices/${device.id}/commands`, { qos: 1 })
    await proxy.cut()
    // a command queued on the cut connections: their offline queues are not empty
    void connected.publishAsync(`tenants/${tenant}/devices/${device.id}/telemetry`, JSON.stringify({ ts: Date.now(), lat: 45, lon: 7 }), { qos: 1 }).catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const asked = Date.now()
    node.child.kill('SIGTERM')
    const ended = await node.ended
    expect(ended.code, ended.out.slice(-4000)).toBe(0)
    expect(Date.now() - asked).toBeLessThan(5000)
    expect(ended.out).not.toMatch(/Unhandled|unhandled|triggerUncaughtException/)
    const lines = logLines(ended.out)
    expect(lines.filter((l) => l['msg'] === 'shutdown timed out' || l['msg'] === 'shutdown failed')).toEqual([])
    // 'stopped' need not be the last line: a connection ended during the outage may still report it
    expect(lines.map((l) => l['msg']), ended.out.slice(-4000)).toContain('stopped')
  })
})
