// GET /devices/:id/state on a whole node: fixes published over MQTT go through the pipeline into
// the state store, and the route shows them with the device's presence; other tenants get a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

interface State {
  deviceId: string, vehicleId: string | null, version: number, fixCount: number
  lastFix: { ts: string, receivedAt: string, lat: number, lon: number, battery?: number, attrs?: Record<string, unknown> } | null
  lastDrop: { reason: string, ts: string } | null
  presence: { online: boolean, lastSeenAt: string | null, lastFixAt: string | null }
  features: Record<string, unknown>
}

describe('asset state', () => {
  let node: TestNode
  let acme: Provisioned
  let globex: Provisioned
  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
    globex = await provision(node, 'globex', 0)
  })
  afterAll(async () => { await node?.close() })

  const state = (id: string, token: string) => nodeApi(node)<State>('GET', `/api/v1/devices/${id}/state`, token)

  it('shows the last fix, fix count, last drop, presence and features after fixes over MQTT', async () => {
    const device = acme.devices[0]!
    const client = await connect(node.mqttUrl, deviceOptions('acme', device))
    const t0 = Date.now() - 120_000
    const readings = Array.from({ length: 10 }, (_, i) => ({ ts: t0 + i * 5000, lat: 45.7 + i * 1e-4, lon: 4.8, battery: 80 - i, attrs: { temp: 3.5 } }))
    // an impossible jump: dropped by the pipeline, remembered as the last drop
    readings.push({ ts: t0 + 51_000, lat: 10, lon: 10, battery: 70, attrs: { temp: 3.5 } })
    await client.publishAsync(`tenants/acme/devices/${device.id}/telemetry`, JSON.stringify(readings), { qos: 1 })
    await node.server.ingestion.pipeline.idle()
    const body = await eventually(async () => {
      const s = await state(device.id, acme.operatorToken)
      return s.fixCount === 10 && s.lastDrop ? s : undefined
    }, 5000, 'ten fixes in state')
    const last = readings[9]!
    expect(body).toMatchObject({
      deviceId: device.id, vehicleId: null, fixCount: 10,
      lastFix: { ts: new Date(last.ts).toISOString(), lat: last.lat, lon: 4.8, battery: 71, attrs: { temp: 3.5 } },
      lastDrop: { ts: new Date(t0 + 51_000).toISOString() },
      presence: { online: true, lastSeenAt: expect.any(String), lastFixAt: expect.any(String) },
    })
    expect(body.version).toBeGreaterThan(0)
    expect(typeof body.features).toBe('object')
    await client.endAsync()
  })

  it('is empty for a device that never sent anything, readable by viewers, and a 404 for other tenants', async () => {
    const quiet = await state(acme.devices[1]!.id, acme.adminToken)
    expect(quiet).toMatchObject({ fixCount: 0, lastFix: null, lastDrop: null, presence: { online: false, lastSeenAt: null }, features: {} })
    await expect(state(acme.devices[0]!.id, globex.operatorToken)).rejects.toThrow(/404/)
    await expect(state('dev_doesnotexist', acme.operatorToken)).rejects.toThrow(/404/)
  })
})
