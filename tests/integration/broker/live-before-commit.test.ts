// The live state does not wait for the database, the acknowledgement does: with the positions table
// locked against writes, a published reading shows in the asset state while its PUBACK is held back;
// once the lock goes, the PUBACK arrives and the row is there. A redelivery is stored and applied once.
// PUBACKs keep the order of the publishes even when a later reading commits first [MQTT-4.6.0-2].
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import type { MqttClient } from 'mqtt'
import { createPostgresDatabase } from '../../helpers/databases.js'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

interface State { fixCount: number, lastFix: { ts: string } | null }

describe.runIf(postgresAvailable())('live state before the commit, acknowledgements after it (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  let node: TestNode
  let acme: Provisioned
  let locker: pg.Client
  let client: MqttClient
  beforeAll(async () => {
    database = await createPostgresDatabase()
    node = await startNode({}, { databaseUrl: database.url })
    acme = await provision(node, 'livefirst', 1)
    locker = new pg.Client({ connectionString: database.url })
    await locker.connect()
    client = await connect(node.mqttUrl, deviceOptions('livefirst', acme.devices[0]!))
  })
  afterAll(async () => {
    await locker?.end() // first: ends the lock's transaction if a test failed inside it
    await client?.endAsync()
    await node?.close()
    await database?.drop()
  })

  const device = () => acme.devices[0]!
  const state = () => nodeApi(node)<State>('GET', `/api/v1/devices/${device().id}/state`, acme.operatorToken)
  const stored = async () => Number((await locker.query<{ n: string }>('select count(*) as n from positions where device_id = $1', [device().id])).rows[0]!.n)
  const topic = () => `tenants/livefirst/devices/${device().id}/telemetry`

  it('shows a reading in the asset state while its commit (and so its PUBACK) waits on a lock', async () => {
    const ts = Date.now() - 60_000
    await locker.query('begin')
    await locker.query('lock table positions in share mode') // reads go on, inserts wait
    let acked = false
    const ack = client.publishAsync(topic(), JSON.stringify({ ts, lat: 45.76, lon: 4.84 }), { qos: 1 }).then(() => { acked = true })
    const live = await eventually(async () => {
      const s = await state()
      return s.lastFix?.ts === new Date(ts).toISOString() ? s : undefined
    }, 5000, 'the reading in the asset state')
    expect(live.fixCount).toBe(1)
    await new Promise((r) => setTimeout(r, 200))
    expect(acked).toBe(false)
    expect(await stored()).toBe(0)
    await locker.query('commit')
    await ack
    expect(await stored()).toBe(1)
  })

  it('a redelivered reading is acknowledged, stored once and applied once', async () => {
    const ts = Date.now() - 30_000
    const payload = JSON.stringify({ ts, lat: 45.77, lon: 4.84 })
    const duplicates = async () => (await node.server.metrics.readingsDropped.get()).values.find((v) => v.labels['reason'] === 'duplicate')?.value ?? 0
    const before = await duplicates()
    await client.publishAsync(topic(), payload, { qos: 1 })
    await client.publishAsync(topic(), payload, { qos: 1 })
    await node.server.ingestion.pipeline.idle()
    expect(await duplicates()).toBe(before + 1) // counted where it was stopped: the pipeline's duplicate stage
    const s = await state()
    expect(s.fixCount).toBe(2)
    expect(s.lastFix?.ts).toBe(new Date(ts).toISOString())
    expect(await stored()).toBe(2)
  })

  it('acknowledges in publish order when a later reading commits first', async () => {
    const t1 = Date.now() - 20_000
    const t2 = t1 + 1000
    const storedAt = async (ts: number) => Number((await locker.query<{ n: string }>(
      'select count(*) as n from positions where device_id = $1 and ts = $2', [device().id, new Date(ts)])).rows[0]!.n)
    const waitingOnLocks = async () => Number((await locker.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]!.n)
    await locker.query('begin')
    // an uncommitted row with the first reading's key: that reading's insert waits for this
    // transaction, the second's (another batch) does not
    await locker.query('insert into positions (tenant_id, device_id, ts, lat, lon) values ($1, $2, $3, 0, 0)', [acme.tenant.id, device().id, new Date(t1)])
    const order: number[] = []
    const first = client.publishAsync(topic(), JSON.stringify({ ts: t1, lat: 45.78, lon: 4.84 }), { qos: 1 }).then(() => order.push(1))
    await eventually(async () => (await waitingOnLocks()) > 0 || undefined, 5000, 'the first reading\'s insert waiting on the lock')
    const second = client.publishAsync(topic(), JSON.stringify({ ts: t2, lat: 45.79, lon: 4.84 }), { qos: 1 }).then(() => order.push(2))
    await eventually(async () => (await storedAt(t2)) === 1 || undefined, 5000, 'the second reading committed')
    await new Promise((r) => setTimeout(r, 200))
    expect(order).toEqual([]) // the second is stored, but its PUBACK waits for the first's
    await locker.query('rollback')
    await Promise.all([first, second])
    expect(order).toEqual([1, 2])
    expect(await storedAt(t1)).toBe(1)
  })
})
