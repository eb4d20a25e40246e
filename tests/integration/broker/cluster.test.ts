// Two ReTrack nodes on loopback sharing Redis and PostgreSQL: commands reach a device on the other
// node, persistent sessions follow the device, and its state stays whole when it changes node.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startTwoNodes, type Provisioned, type TestNode } from '../../helpers/server.js'

const services = () => inject('services')

describe.runIf(services().redis && postgresAvailable())('cluster mode: two nodes, one Redis, one PostgreSQL', () => {
  let a: TestNode
  let b: TestNode
  let acme: Provisioned
  let closeNodes: (() => Promise<void>) | undefined

  beforeAll(async () => {
    ;({ a, b, close: closeNodes } = await startTwoNodes())
    acme = await provision(a, 'acme', 3)
  })
  afterAll(async () => { await closeNodes?.() })

  const commands = (i: number) => `tenants/acme/devices/${acme.devices[i]!.id}/commands`
  const telemetry = (i: number) => `tenants/acme/devices/${acme.devices[i]!.id}/telemetry`

  it('a command sent through node B reaches the device subscribed on node A', async () => {
    const device = await connect(a.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await device.subscribeAsync(commands(0), { qos: 1 })
    const received = new Promise<Record<string, unknown>>((resolve) => device.once('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)))
    await nodeApi(b)('POST', `/api/v1/devices/${acme.devices[0]!.id}/commands`, acme.operatorToken, { type: 'reboot' })
    expect(await received).toMatchObject({ type: 'reboot' })
    await device.endAsync()
  })

  it('a persistent session started on A delivers, on B, the command queued while the device was away', async () => {
    const options = deviceOptions('acme', acme.devices[1]!, { clean: false })
    const first = await connect(a.mqttUrl, options)
    await first.subscribeAsync(commands(1), { qos: 1 })
    await first.endAsync()
    await nodeApi(b)('POST', `/api/v1/devices/${acme.devices[1]!.id}/commands`, acme.operatorToken, { type: 'set_interval', data: { seconds: 5 } })
    const second = await connect(b.mqttUrl, options)
    const received = await new Promise<Record<string, unknown>>((resolve) => second.once('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>)))
    expect(received).toMatchObject({ type: 'set_interval', data: { seconds: 5 } })
    await second.endAsync()
  })

  it('asset state stays consistent when the device moves from node A to node B', async () => {
    const key = { tenantId: acme.tenant.id, deviceId: acme.devices[2]!.id }
    const base = Date.now() - 600_000
    const reading = (i: number) => JSON.stringify({ ts: base + i * 1000, lat: 52 + i * 1e-4, lon: 13, seq: i })
    const onA = await connect(a.mqttUrl, deviceOptions('acme', acme.devices[2]!))
    for (let i = 0; i < 50; i++) await onA.publishAsync(telemetry(2), reading(i), { qos: 1 })
    await onA.endAsync()
    await eventually(async () => (await b.server.state.get(key))?.fixCount === 50, 5000, 'first 50 fixes in state')

    const onB = await connect(b.mqttUrl, deviceOptions('acme', acme.devices[2]!))
    for (let i = 50; i < 100; i++) await onB.publishAsync(telemetry(2), reading(i), { qos: 1 })
    // a replay of old readings through node B changes nothing
    for (let i = 0; i < 10; i++) await onB.publishAsync(telemetry(2), reading(i), { qos: 1 })
    await eventually(async () => (await a.server.state.get(key))?.fixCount === 100, 5000, '100 fixes in state')
    const [fromA, fromB] = await Promise.all([a.server.state.get(key), b.server.state.get(key)])
    expect(fromA).toEqual(fromB)
    expect(fromA).toMatchObject({ fixCount: 100, lastFix: { ts: base + 99_000, seq: 99 } })
    const presence = await a.server.presence.get([key])
    expect(presence.get(key.deviceId)).toMatchObject({ online: true, connection: expect.stringContaining(b.server.broker!.aedes.id) })
    await onB.endAsync()
    await eventually(async () => (await a.server.presence.get([key])).get(key.deviceId)?.online === false, 5000, 'offline after disconnect')
  })
})
