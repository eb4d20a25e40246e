// What a device integrator saw go wrong (an audit): a device that reconnected to another node was
// shown offline while connected (the old connection's Last Will), a device that said `offline` and
// kept sending stayed offline, and events stamped in seconds were stored in 1970 while readings
// stamped so vanished with no trace but a counter.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, startTwoNodes, type Provisioned, type TestNode } from '../../helpers/server.js'

const services = () => inject('services')
const will = (tenant: string, deviceId: string) => ({ will: { topic: `tenants/${tenant}/devices/${deviceId}/status`, payload: Buffer.from('{"state":"offline"}'), qos: 1 as const, retain: false } })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.runIf(services().redis && postgresAvailable())('presence across two nodes', () => {
  let a: TestNode
  let b: TestNode
  let acme: Provisioned
  let closeNodes: (() => Promise<void>) | undefined

  beforeAll(async () => {
    ;({ a, b, close: closeNodes } = await startTwoNodes())
    acme = await provision(a, 'acme', 1)
  })
  afterAll(async () => { await closeNodes?.() })

  it('a device that reconnects to the other node stays online: the old connection\'s Last Will does not count', async () => {
    const device = acme.devices[0]!
    const key = { tenantId: acme.tenant.id, deviceId: device.id }
    const online = async () => (await a.server.presence.get([key])).get(device.id)?.online
    const first = await connect(a.mqttUrl, { ...deviceOptions('acme', device), ...will('acme', device.id), reconnectPeriod: 0 })
    await eventually(async () => await online() === true, 5000, 'online on A')
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()))

    // the same client id on node B takes the session over; node A closes the old connection and
    // publishes its Last Will
    const second = await connect(b.mqttUrl, { ...deviceOptions('acme', device), ...will('acme', device.id) })
    await closed
    await sleep(1500)
    const presence = (await a.server.presence.get([key])).get(device.id)
    expect(presence).toMatchObject({ online: true, connection: expect.stringContaining(b.server.broker!.aedes.id) })

    second.stream.destroy() // the current connection dies: its Will does count
    await eventually(async () => await online() === false, 5000, 'offline after the current connection\'s Will')
    first.end(true)
  })
})

describe('presence and time checks on one node', () => {
  let node: TestNode
  let acme: Provisioned

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'clocks', 4)
  })
  afterAll(async () => { await node?.close() })

  const letters = async (deviceId: string) => (await node.server.db.pool.query<{ code: string, reason: string, payload: Buffer }>(
    'select code, reason, payload from dead_letters where device_id = $1 order by id', [deviceId])).rows

  it('a device that said offline and keeps sending on the same connection is online again', async () => {
    const device = acme.devices[0]!
    const key = { tenantId: acme.tenant.id, deviceId: device.id }
    const online = async () => (await node.server.presence.get([key])).get(device.id)?.online
    const client = await connect(node.mqttUrl, deviceOptions('clocks', device))
    await eventually(async () => await online() === true, 5000, 'online')
    await client.publishAsync(`tenants/clocks/devices/${device.id}/status`, 'offline', { qos: 1 })
    await eventually(async () => await online() === false, 5000, 'offline as it said')
    await client.publishAsync(`tenants/clocks/devices/${device.id}/telemetry`, JSON.stringify({ ts: Date.now(), lat: 45.1, lon: 5.7 }), { qos: 1 })
    await eventually(async () => await online() === true, 5000, 'online again once it sends')
    await client.endAsync()
  })

  it('a reading stamped in epoch seconds is dead-lettered as BAD_TIME, with the likely mistake named', async () => {
    const device = acme.devices[1]!
    const client = await connect(node.mqttUrl, deviceOptions('clocks', device))
    const payload = JSON.stringify([{ ts: Date.now(), lat: 45.1, lon: 5.7 }, { ts: Math.floor(Date.now() / 1000), lat: 45.2, lon: 5.7 }])
    await client.publishAsync(`tenants/clocks/devices/${device.id}/telemetry`, payload, { qos: 1 })
    await client.endAsync()
    const [letter] = await letters(device.id)
    expect(letter).toMatchObject({ code: 'BAD_TIME', reason: expect.stringMatching(/\[1\] ts too old .*epoch seconds/) })
    expect(letter!.payload.toString()).toBe(payload)
    const stored = await node.server.db.pool.query<{ n: number }>('select count(*)::int n from positions where device_id = $1', [device.id])
    expect(stored.rows[0]!.n).toBe(1)
  })

  it('events get the reading\'s time checks: one from 1970 or from the far future is dead-lettered, not stored', async () => {
    const device = acme.devices[2]!
    const client = await connect(node.mqttUrl, deviceOptions('clocks', device))
    const topic = `tenants/clocks/devices/${device.id}/events`
    await client.publishAsync(topic, JSON.stringify({ ts: Math.floor(Date.now() / 1000), type: 'sos' }), { qos: 1 })
    await client.publishAsync(topic, JSON.stringify({ ts: '9999-01-01T00:00:00Z', type: 'door_close' }), { qos: 1 })
    await client.publishAsync(topic, JSON.stringify({ ts: Date.now(), type: 'door_open' }), { qos: 1 })
    await client.endAsync()
    const events = await node.server.db.pool.query<{ type: string }>('select type from tracking_events where device_id = $1', [device.id])
    expect(events.rows.map((r) => r.type)).toEqual(['door_open'])
    const found = await letters(device.id)
    expect(found.map((l) => l.code)).toEqual(['BAD_TIME', 'BAD_TIME'])
    expect(found[0]!.reason).toMatch(/too old.*epoch seconds/)
    expect(found[1]!.reason).toMatch(/in the future/)
  })

  it('over HTTP, an event refused for its time is listed as rejected (BAD_TIME) with its index', async () => {
    const device = acme.devices[3]!
    const api = nodeApi(node)
    const token = await api<{ token: string }>('POST', '/api/v1/auth/device-token', null, { tenant: 'clocks', deviceId: device.id, secret: device.secret })
    const res = await api<{ accepted: number, dropped: unknown[], rejected: Array<{ index?: number, code: string, reason: string }> }>('POST', '/api/v1/ingest/events', token.token,
      [{ ts: Date.now(), type: 'sos' }, { ts: 1_700_000_000, type: 'sos' }])
    expect(res).toMatchObject({ accepted: 1, dropped: [], rejected: [{ index: 1, code: 'BAD_TIME', reason: expect.stringMatching(/too old .*epoch seconds/) }] })
  })
})
