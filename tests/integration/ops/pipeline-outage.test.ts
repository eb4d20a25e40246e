// Redis going away under a production node (PostgreSQL, state and broker in Redis) while devices
// publish QoS 1: readings go on being stored, the pipeline retries what it could not process (one
// log line when it pauses, one when it resumes), the backlog holds the PUBACKs back once it passes
// PIPELINE_MAX_BACKLOG, and when Redis is back every acknowledged reading has been processed once:
// the asset state counts each, the geofence events fire once. A shutdown in the middle of an outage
// ends at once and says how many fixes it left unprocessed. Redis is reached through a TCP proxy the
// test cuts, so the state in Redis outlives the outage (a restarted Redis would have lost it).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { Redis } from 'ioredis'
import mqtt, { type MqttClient } from 'mqtt'
import pg from 'pg'
import { createPostgresDatabase, seedTenantWithDevices } from '../../helpers/databases.js'
import { TEST_JWT_SECRET } from '../../helpers/app.js'
import { tcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js'
import { logLines, start, type Running } from './run.js'

const services = inject('services')
const MAX_BACKLOG = 20
const PAUSED = 'state store or database unavailable: processing paused, retrying'
const RESUMED = 'state store or database back: processing resumed'

/** A node on its own PostgreSQL database and Redis prefix, Redis behind a proxy; devices with a fence each. */
function outageRig(name: string, env: Record<string, string>) {
  const tenant = name
  const devices = Array.from({ length: 3 }, (_, d) => ({ id: `dev_${name}${String(d).padStart(11, '0')}`, secret: `${name}-outage-secret-${d}-0123456789` }))
  const prefix = `retrack-${name}-${randomBytes(4).toString('hex')}:`
  const base = Date.now() - 3_600_000
  // 11 m a second northward; each device on its own meridian, with its own fence around reading 190
  const lonOf = (d: number) => 7 + d * 0.05
  const reading = (d: number, i: number) => JSON.stringify({ ts: base + i * 1000, lat: 45 + i * 1e-4, lon: lonOf(d), seq: i })
  const r = {
    tenant, devices, prefix, base, tenantId: '', http: 0, mqttPort: 0,
    database: undefined as Awaited<ReturnType<typeof createPostgresDatabase>> | undefined,
    pool: undefined as pg.Pool | undefined,
    redis: undefined as Redis | undefined,
    proxy: undefined as TcpProxy | undefined,
    node: undefined as Running | undefined,
    clients: [] as MqttClient[],
    async connectAll() {
      r.clients = await Promise.all(devices.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${r.mqttPort}`, {
        clientId: d.id, username: tenant, password: d.secret, protocolVersion: 4, reconnectPeriod: 500, connectTimeout: 30_000,
      })))
    },
    /** Publishes readings [from, to) of every device at once; `acked` fills as the PUBACKs come. */
    burst: (from: number, to: number, acked: Set<string>) => Promise.all(r.clients.flatMap((client, d) =>
      Array.from({ length: to - from }, (_, k) => client.publishAsync(`tenants/${tenant}/devices/${devices[d]!.id}/telemetry`, reading(d, from + k), { qos: 1 })
        .then(() => { acked.add(`${d}:${from + k}`) })))),
    stored: async () => Number((await r.pool!.query<{ n: string }>('select count(*) as n from positions where tenant_id = $1', [r.tenantId])).rows[0]!.n),
    stateOf: async (deviceId: string) => {
      const doc = await r.redis!.hget(`${prefix}state:${r.tenantId}:${deviceId}`, 'doc')
      return doc ? JSON.parse(doc) as { fixCount: number, lastFix: { ts: number } | null } : null
    },
    metric: async (metric: string) => {
      const text = await (await fetch(`http://127.0.0.1:${r.http}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith(`${metric} `))
      return line === undefined ? undefined : Number(line.split(' ')[1])
    },
    until: async (what: string, check: () => Promise<boolean>, ms = 30_000) => {
      const end = Date.now() + ms
      while (!await check()) {
        if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms\n${r.node!.out().slice(-4000)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
  }

  beforeAll(async () => {
    r.database = await createPostgresDatabase()
    r.tenantId = (await seedTenantWithDevices(r.database.url, { slug: tenant, adminEmail: `a@${name}.test`, password: 'password123' }, devices)).tenantId
    r.pool = new pg.Pool({ connectionString: r.database.url, max: 2 })
    for (const [d] of devices.entries()) {
      await r.pool.query(`insert into geofences (tenant_id, name, kind, geometry, radius_m) values ($1, $2, 'circle', $3, 200)`,
        [r.tenantId, `fence ${d}`, JSON.stringify({ type: 'Point', coordinates: [lonOf(d), 45 + 190e-4] })])
    }
    const target = new URL(services.redisUrl)
    r.redis = new Redis(services.redisUrl)
    r.proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 6379) })
    r.node = start('src/main.ts', {
      NODE_ENV: 'production', DATABASE_URL: r.database.url, REDIS_URL: `redis://127.0.0.1:${r.proxy.port}`, REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET, PIPELINE_MAX_BACKLOG: String(MAX_BACKLOG), INGEST_BATCH_WAIT_MS: '0',
      GEOFENCE_DWELL_S: '0', GEOFENCE_EXIT_S: '0', GEOFENCE_EXIT_MARGIN_M: '0', SHUTDOWN_TIMEOUT_MS: '30000', ...env,
    })
    const up = await r.node.waitFor(/^ReTrack is up/)
    r.http = Number(up['http'])
    r.mqttPort = Number(up['mqtt'])
  }, 120_000)

  afterAll(async () => {
    for (const c of r.clients) c.end(true)
    if (r.node && r.node.child.exitCode === null && r.node.child.signalCode === null) { r.node.child.kill('SIGKILL'); await r.node.ended }
    await r.proxy?.close()
    if (r.redis) {
      const keys = await r.redis.keys(`${prefix}*`)
      if (keys.length > 0) await r.redis.del(...keys)
      r.redis.disconnect()
    }
    await r.pool?.end()
    await r.database?.drop()
  })
  return r
}

describe.runIf(services.postgres && services.redis)('the pipeline through a Redis outage (production mode)', () => {
  const r = outageRig('pipeout', {})
  const processed = (n: number) => async () => (await Promise.all(r.devices.map((d) => r.stateOf(d.id)))).every((s) => s?.fixCount === n)

  it('stores through the outage, holds PUBACKs past the backlog, then processes every acknowledged reading once', { timeout: 120_000 }, async () => {
    const { devices } = r
    const node = r.node!
    const proxy = r.proxy!
    await r.connectAll()
    expect(await r.metric('retrack_mqtt_devices_connected')).toBe(devices.length)
    const acked = new Set<string>()
    await r.burst(0, 100, acked)
    await r.until('the first readings processed', processed(100))

    // Redis goes away; the devices go on publishing. (The broker hands each QoS 1 message on to
    // Redis after its PUBACK and reads a connection's next packets only once that is done: the
    // outage stays shorter than the ~10 s after which those give up and close the connection.)
    await new Promise((resolve) => setTimeout(resolve, 500))
    await proxy.cut()
    const before = acked.size
    const storedBefore = await r.stored()
    const during = r.burst(100, 200, acked)
    await node.waitFor(new RegExp(`^${PAUSED}`), 5000)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    // readings go on being stored, but past PIPELINE_MAX_BACKLOG unprocessed fixes the PUBACKs wait
    const storedDuring = await r.stored() - storedBefore
    const ackedDuring = acked.size - before
    expect(storedDuring).toBeGreaterThan(MAX_BACKLOG)
    expect(ackedDuring).toBeLessThanOrEqual(MAX_BACKLOG + devices.length)
    expect(ackedDuring).toBeLessThan(storedDuring)
    expect(await r.metric('retrack_pipeline_paused')).toBe(1)

    // Redis is back: everything held is acknowledged and processed
    await proxy.open()
    await during
    await node.waitFor(new RegExp(`^${RESUMED}`), 30_000)
    await r.burst(200, 300, acked)
    expect(acked.size).toBe(devices.length * 300)
    await r.until('every reading processed', processed(300))

    // once each: every stored reading counted in the state, the fence crossed (during the outage) once
    const rows = (await r.pool!.query<{ device_id: string, n: string, distinct_ts: string }>(
      'select device_id, count(*) as n, count(distinct ts) as distinct_ts from positions where tenant_id = $1 group by device_id', [r.tenantId])).rows
    for (const d of devices) {
      const row = rows.find((x) => x.device_id === d.id)
      expect([Number(row?.n), Number(row?.distinct_ts)]).toEqual([300, 300])
      expect(await r.stateOf(d.id)).toMatchObject({ fixCount: 300, lastFix: { ts: r.base + 299 * 1000 } })
    }
    const events = (await r.pool!.query<{ device_id: string, type: string, n: string }>(
      `select device_id, type, count(*) as n from tracking_events where tenant_id = $1 and type like 'geofence_%' group by device_id, type order by device_id, type`, [r.tenantId])).rows
    expect(events.map((e) => ({ ...e, n: Number(e.n) }))).toEqual(devices.flatMap((d) => [{ device_id: d.id, type: 'geofence_entered', n: 1 }, { device_id: d.id, type: 'geofence_exited', n: 1 }]))

    // one line when processing paused, one when it resumed: nothing per batch, no stack
    const lines = logLines(node.out())
    expect(lines.filter((l) => l['msg'] === PAUSED)).toHaveLength(1)
    const resumed = lines.filter((l) => l['msg'] === RESUMED)
    expect(resumed).toHaveLength(1)
    expect(resumed[0]).toMatchObject({ batches: expect.any(Number), fixes: expect.any(Number), ms: expect.any(Number) })
    expect(Number(resumed[0]!['fixes'])).toBeGreaterThan(0)
    expect(lines.filter((l) => /pipeline failed|processing a batch failed/.test(String(l['msg'])))).toEqual([])
    expect(await r.metric('retrack_pipeline_batches_retried_total')).toBeGreaterThan(0)
    expect(await r.metric('retrack_pipeline_batches_failed_total')).toBe(0)
    expect(await r.metric('retrack_pipeline_paused')).toBe(0)

    // the devices go: the gauge of connected devices says so
    for (const c of r.clients) await c.endAsync()
    await r.until('no device connected', async () => await r.metric('retrack_mqtt_devices_connected') === 0, 5000)
  })
})

// The broker clustered (in Redis too): closed during the outage it ends its Redis connections at once,
// where it used to die of an unhandled rejection ~10 s on (tests/integration/broker/redis-outage-connect.test.ts).
describe.runIf(services.postgres && services.redis)('a shutdown during a Redis outage', () => {
  const r = outageRig('pipestop', { MQTT_CLUSTER: 'on' })

  it('gives up the pipeline\'s retries at once and says how many fixes it left unprocessed', { timeout: 60_000 }, async () => {
    const node = r.node!
    const proxy = r.proxy!
    await r.connectAll()
    const acked = new Set<string>()
    await r.burst(0, 50, acked)
    await r.until('the first readings processed', async () => (await Promise.all(r.devices.map((d) => r.stateOf(d.id)))).every((s) => s?.fixCount === 50))
    // the last messages' hand-off to Redis done first, as above: a connection waiting on it reads nothing more
    await new Promise((resolve) => setTimeout(resolve, 500))
    await proxy.cut()
    void r.burst(50, 150, acked).catch(() => undefined)
    await node.waitFor(new RegExp(`^${PAUSED}`), 5000)
    const asked = Date.now()
    node.child.kill('SIGTERM')
    const closed = await node.waitFor(/^pipeline closed with fixes left unprocessed/, 10_000)
    // the retries end at once, not after their backoff or Redis' own timeouts
    expect(Number(closed['time']) - asked).toBeLessThan(2000)
    expect(closed).toMatchObject({ batches: expect.any(Number), fixes: expect.any(Number) })
    expect(Number(closed['fixes'])).toBeGreaterThan(0)
    const ended = await node.ended
    expect(ended.code, ended.out.slice(-4000)).toBe(0)
    expect(ended.out).not.toMatch(/Unhandled|triggerUncaughtException/)
    expect(logLines(ended.out).filter((l) => l['msg'] === 'shutdown timed out')).toEqual([])
  })
})
