// "Acked means stored": kill -9 the ReTrack process the moment PUBACKs are arriving; after a restart
// every acknowledged reading is in PostgreSQL, and sending everything again stores nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import mqtt from 'mqtt'
import { createPostgresDatabase, seedTenantWithDevices } from '../../helpers/databases.js'
import { postgresAvailable } from '../../helpers/server.js'
import { spawnNode } from '../../helpers/process.js'
import { TEST_JWT_SECRET } from '../../helpers/app.js'

describe.runIf(postgresAvailable())('QoS 1 durability across kill -9 (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  let pool: pg.Pool
  const device = { id: 'dev_killtest00000001', secret: 'kill-test-secret-0123456789' }
  const total = 3000
  const base = Date.now() - 3_600_000
  const reading = (i: number) => JSON.stringify({ ts: base + i * 1000, lat: 45 + i * 1e-4, lon: 7, seq: i })
  const env = () => ({ DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, INGEST_BATCH_WAIT_MS: '0' })

  beforeAll(async () => {
    database = await createPostgresDatabase()
    await seedTenantWithDevices(database.url, { slug: 'durable', adminEmail: 'a@durable.test', password: 'password123' }, [device])
    pool = new pg.Pool({ connectionString: database.url, max: 2 })
  })
  afterAll(async () => { await pool?.end(); await database?.drop() })

  it('every acknowledged reading survives the kill; a full resend is applied once', { timeout: 120_000 }, async () => {
    const first = await spawnNode(env())
    const client = mqtt.connect(`mqtt://127.0.0.1:${first.mqttPort}`, { clientId: device.id, username: 'durable', password: device.secret, reconnectPeriod: 0, protocolVersion: 4 })
    await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })

    const acked: number[] = []
    const kill: { exit: Promise<number | null> | null } = { exit: null }
    await new Promise<void>((resolve) => {
      for (let i = 0; i < total; i++) {
        client.publish(`tenants/durable/devices/${device.id}/telemetry`, reading(i), { qos: 1 }, (err) => {
          if (err) return
          acked.push(i)
          // pull the plug while acknowledgements are streaming in
          if (acked.length === 500 && !kill.exit) { kill.exit = first.kill('SIGKILL'); resolve() }
        })
      }
      client.once('close', () => resolve())
    })
    expect(await kill.exit).toBe(null) // killed by a signal, no exit code
    client.end(true)
    expect(acked.length).toBeGreaterThanOrEqual(500)

    const stored = new Set((await pool.query<{ seq: number }>('select seq from positions where device_id = $1', [device.id])).rows.map((r) => r.seq))
    const lost = acked.filter((i) => !stored.has(i))
    expect(lost).toEqual([])
    expect(stored.size).toBeLessThan(total) // the kill really interrupted the stream

    // the device sends everything again (as after a reconnect): stored once, duplicates acknowledged
    const second = await spawnNode(env())
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${second.mqttPort}`, { clientId: device.id, username: 'durable', password: device.secret, reconnectPeriod: 0, protocolVersion: 4 })
    await Promise.all(Array.from({ length: total }, (_, i) => again.publishAsync(`tenants/durable/devices/${device.id}/telemetry`, reading(i), { qos: 1 })))
    await again.endAsync()
    const { rows } = await pool.query<{ n: number, distinct_seq: number }>('select count(*)::int n, count(distinct seq)::int distinct_seq from positions where device_id = $1', [device.id])
    expect(rows[0]).toEqual({ n: total, distinct_seq: total })
    await second.kill('SIGTERM')
  })
})
