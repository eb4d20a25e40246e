// External broker mode against the real Mosquitto on this machine: devices publish to Mosquitto,
// two ReTrack nodes share the subscription, and each reading is stored exactly once; commands go
// out through Mosquitto, and a device's status topic there is its presence.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import mqtt from 'mqtt'
import { eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { createPostgresDatabase } from '../../helpers/databases.js'
import { mosquittoPub } from '../../helpers/mosquitto-clients.js'

const services = () => inject('services')

describe.runIf(services().mosquitto && postgresAvailable())('external broker mode (Mosquitto)', () => {
  let a: TestNode
  let b: TestNode
  let acme: Provisioned
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>
  const slug = `ext${randomBytes(3).toString('hex')}`

  beforeAll(async () => {
    database = await createPostgresDatabase()
    const external = {
      EXTERNAL_BROKER_URL: services().mosquittoUrl, EXTERNAL_BROKER_SHARE_GROUP: `retrack-test-${slug}`, EMBEDDED_BROKER: false,
    }
    a = await startNode({ ...external, EXTERNAL_BROKER_CLIENT_ID: `retrack-test-${slug}-a` }, { databaseUrl: database.url })
    b = await startNode({ ...external, EXTERNAL_BROKER_CLIENT_ID: `retrack-test-${slug}-b` }, { databaseUrl: database.url })
    acme = await provision(a, slug, 2)
  })
  afterAll(async () => { await a?.close(); await b?.close(); await database?.drop() })

  const count = async (deviceId: string) => (await a.server.db.pool.query<{ n: number }>('select count(*)::int n from positions where device_id = $1', [deviceId])).rows[0]!.n

  it('readings published to Mosquitto are stored once although two nodes consume', async () => {
    const device = acme.devices[0]!
    const publisher = await mqtt.connectAsync(services().mosquittoUrl, { clientId: `${slug}-pub`, protocolVersion: 4 })
    const base = Date.now() - 120_000
    const total = 200
    for (let i = 0; i < total; i++) {
      await publisher.publishAsync(`tenants/${slug}/devices/${device.id}/telemetry`, JSON.stringify({ ts: base + i * 100, lat: 40 + i * 1e-5, lon: -3, seq: i }), { qos: 1 })
    }
    await publisher.endAsync()
    await eventually(async () => await count(device.id) === total, 10_000, `${total} readings`)
    // both nodes took part (shared subscription), neither stored a reading twice
    const perNode = await Promise.all([a, b].map(async (n) => (await n.server.metrics.registry.getSingleMetricAsString('retrack_db_batch_rows')).match(/retrack_db_batch_rows_sum\{table="positions"\} (\d+)/)?.[1]))
    expect(perNode.map(Number).reduce((x, y) => x + y)).toBe(total)
    expect(perNode.every((n) => Number(n) > 0)).toBe(true)
  })

  it('mosquitto_pub readings of a known device are stored; an unknown device is dead-lettered', async () => {
    const device = acme.devices[1]!
    const port = Number(new URL(services().mosquittoUrl).port || 1883)
    const run = await mosquittoPub(port, { id: `${slug}-cli`, user: 'x', pass: 'x', topic: `tenants/${slug}/devices/${device.id}/telemetry`, message: JSON.stringify({ ts: Date.now(), lat: 1.5, lon: 1.5 }) })
    expect(run.code).toBe(0)
    await eventually(async () => await count(device.id) === 1, 10_000, 'reading via mosquitto_pub')
    await mosquittoPub(port, { id: `${slug}-cli2`, user: 'x', pass: 'x', topic: `tenants/${slug}/devices/dev_nobody_here/telemetry`, message: '{}' })
    await eventually(async () => (await a.server.db.pool.query<{ n: number }>(`select count(*)::int n from dead_letters where code = 'UNKNOWN_DEVICE' and topic like $1`, [`tenants/${slug}/%`])).rows[0]!.n === 1, 10_000, 'dead letter')
  })
})

// one node: presence lives in each node's memory here (no Redis), so the status messages must reach the node asked
describe.runIf(services().mosquitto && postgresAvailable())('a device on the external broker (one node)', () => {
  let node: TestNode
  let acme: Provisioned
  const slug = `exd${randomBytes(3).toString('hex')}`

  beforeAll(async () => {
    node = await startNode({
      EXTERNAL_BROKER_URL: services().mosquittoUrl, EXTERNAL_BROKER_SHARE_GROUP: `retrack-test-${slug}`, EXTERNAL_BROKER_CLIENT_ID: `retrack-test-${slug}`,
      EMBEDDED_BROKER: false,
    }, { postgres: true })
    acme = await provision(node, slug, 2)
  })
  afterAll(async () => { await node?.close() })

  it('gets commands through Mosquitto; its status there is its presence; /ready names the broker', async () => {
    const device = acme.devices[0]!
    const api = nodeApi(node)
    const onMosquitto = await mqtt.connectAsync(services().mosquittoUrl, {
      clientId: `${slug}-dev`, protocolVersion: 4, will: { topic: `tenants/${slug}/devices/${device.id}/status`, payload: Buffer.from('offline'), qos: 1, retain: false },
    })
    await onMosquitto.subscribeAsync(`tenants/${slug}/devices/${device.id}/commands`, { qos: 1 })
    const received = new Promise<Record<string, unknown>>((resolve) => onMosquitto.once('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as Record<string, unknown>)))
    const sent = await api<{ id: string }>('POST', `/api/v1/devices/${device.id}/commands`, acme.operatorToken, { type: 'reboot' })
    expect(await received).toMatchObject({ id: sent.id, type: 'reboot' })

    const online = async () => (await api<{ presence: { online: boolean } }>('GET', `/api/v1/devices/${device.id}`, acme.operatorToken)).presence.online
    expect(await online()).toBe(false)
    await onMosquitto.publishAsync(`tenants/${slug}/devices/${device.id}/status`, 'online', { qos: 1 })
    await eventually(online, 10_000, 'online after its status said so')
    onMosquitto.stream.destroy() // gone without a DISCONNECT: Mosquitto publishes the Last Will
    await eventually(async () => !await online(), 10_000, 'offline after its Last Will')

    const ready = await fetch(`${node.http}/ready`)
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { externalBroker: true } })
  })

  it('dead-letters a disabled device\'s messages as DEVICE_DISABLED, shown to its tenant', async () => {
    const device = acme.devices[1]!
    const api = nodeApi(node)
    await api('POST', `/api/v1/devices/${device.id}/disable`, acme.adminToken)
    const publisher = await mqtt.connectAsync(services().mosquittoUrl, { clientId: `${slug}-off`, protocolVersion: 4 })
    await publisher.publishAsync(`tenants/${slug}/devices/${device.id}/telemetry`, JSON.stringify({ ts: Date.now(), lat: 2, lon: 2 }), { qos: 1 })
    await publisher.endAsync()
    type Letters = { items: Array<{ code: string, reason: string, deviceId: string | null }> }
    const letters = async () => (await api<Letters>('GET', `/api/v1/dead-letters?deviceId=${device.id}`, acme.operatorToken)).items
    await eventually(async () => (await letters()).length === 1, 10_000, 'dead letter of the disabled device')
    expect(await letters()).toMatchObject([{ code: 'DEVICE_DISABLED', reason: 'device disabled', deviceId: device.id }])
    expect((await node.server.db.pool.query<{ n: number }>('select count(*)::int n from positions where device_id = $1', [device.id])).rows[0]!.n).toBe(0)
  })
})
