// GET /api/v1/stream over real sockets on a whole node: tenant isolation, filters, resume with
// Last-Event-ID, ?access_token= for EventSource, roles, positions from real MQTT fixes, shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, deviceOptions, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { TEST_JWT_SECRET } from '../../helpers/app.js'
import { TokenService } from '../../../src/security/tokens.js'
import { SseClient } from './sse-client.js'
import { bearer, produce, ruleEvent, store, viewerToken } from './helpers.js'
import { validTrackingEvent } from './tracking-event-schema.js'

describe('live stream (SSE)', () => {
  let node: TestNode
  let alpha: Provisioned
  let beta: Provisioned
  const open: SseClient[] = []
  const stream = async (query: string, headers: Record<string, string>) => {
    const client = await SseClient.connect(`${node.http}/api/v1/stream${query}`, headers)
    open.push(client)
    return client
  }

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    alpha = await provision(node, 'alpha', 2)
    beta = await provision(node, 'beta', 1)
  })
  afterAll(async () => {
    for (const c of open) c.close()
    await node?.close()
  })

  it('delivers a tenant\'s event to its clients and never to another tenant\'s', async () => {
    const a = await stream('', bearer(alpha.operatorToken))
    const b = await stream('', bearer(beta.operatorToken))
    expect(a.status).toBe(200)
    expect(a.headers['content-type']).toMatch(/^text\/event-stream/)
    const [arrived] = await produce(node, [ruleEvent(alpha.tenant.id, 'arrived', { deviceId: alpha.devices[0]!.id })])
    await a.until((c) => c.events.length === 1)
    expect(a.frames[0]).toMatchObject({ event: 'tracking', id: String(arrived!.id) })
    expect(a.events[0]).toEqual({
      id: arrived!.id, type: 'arrived', ts: new Date(arrived!.ts).toISOString(), source: 'rule',
      shipmentId: null, stopId: null, vehicleId: null, deviceId: alpha.devices[0]!.id, payload: { note: 'arrived' },
    })
    // the document the contract's JSON Schema describes (docs/schemas/tracking-event.json)
    expect(validTrackingEvent(a.events[0]), JSON.stringify(validTrackingEvent.errors)).toBe(true)
    // ordered delivery: once B has its own later event, A's earlier one can no longer be on its way
    const [own] = await produce(node, [ruleEvent(beta.tenant.id, 'departed')])
    await b.until((c) => c.events.length >= 1)
    const [second] = await produce(node, [ruleEvent(alpha.tenant.id, 'late')])
    await a.until((c) => c.events.length === 2)
    expect(b.events.map((e) => e.id)).toEqual([own!.id])
    expect(a.events.map((e) => e.id)).toEqual([arrived!.id, second!.id])
  })

  it('filters by shipment, types, device and vehicle', async () => {
    const api = nodeApi(node)
    const vehicle = await api<{ id: string }>('POST', '/api/v1/vehicles', alpha.operatorToken, { name: 'truck 1' })
    const shipment = await api<{ id: string }>('POST', '/api/v1/shipments', alpha.operatorToken, {
      reference: 'LIVE-1', deviceId: alpha.devices[0]!.id, stops: [{ type: 'delivery', name: 'Dock', lat: 48, lon: 2 }],
    })
    const byShipment = await stream(`?shipmentId=${shipment.id}&types=arrived,departed`, bearer(alpha.operatorToken))
    const byDevice = await stream(`?deviceId=${alpha.devices[1]!.id}`, bearer(alpha.operatorToken))
    const byVehicle = await stream(`?vehicleId=${vehicle.id}&types=late`, bearer(alpha.operatorToken))
    const t = alpha.tenant.id
    const stored = await produce(node, [
      ruleEvent(t, 'arrived'),
      ruleEvent(t, 'departed', { shipmentId: shipment.id }),
      ruleEvent(t, 'eta_updated', { shipmentId: shipment.id }),
      ruleEvent(t, 'sos', { source: 'device', deviceId: alpha.devices[1]!.id }),
      ruleEvent(t, 'late', { vehicleId: vehicle.id }),
      ruleEvent(t, 'arrived', { vehicleId: vehicle.id }),
      ruleEvent(t, 'arrived', { shipmentId: shipment.id }),
    ])
    await byShipment.until((c) => c.events.length === 2)
    await byDevice.until((c) => c.events.length === 1)
    await byVehicle.until((c) => c.events.length === 1)
    // the last matching frame came after every other one: nothing else can still arrive
    expect(byShipment.events.map((e) => e.id)).toEqual([stored[1]!.id, stored[6]!.id])
    expect(byDevice.events.map((e) => e.type)).toEqual(['sos'])
    expect(byVehicle.events.map((e) => e.id)).toEqual([stored[4]!.id])
  })

  it('takes `type` (the name /events uses) as well as `types`; with both, events of either list', async () => {
    const t = alpha.tenant.id
    const byType = await stream('?type=late,unloading', bearer(alpha.operatorToken))
    const byBoth = await stream('?type=late&types=departed', bearer(alpha.operatorToken))
    const stored = await produce(node, [ruleEvent(t, 'arrived'), ruleEvent(t, 'departed'), ruleEvent(t, 'late')])
    await byType.until((c) => c.events.length === 1)
    await byBoth.until((c) => c.events.length === 2)
    // `late` was the last one stored: nothing else can still arrive
    expect(byType.events.map((e) => e.id)).toEqual([stored[2]!.id])
    expect(byBoth.events.map((e) => e.id)).toEqual([stored[1]!.id, stored[2]!.id])
    expect((await stream('?type=Bad-Type', bearer(alpha.operatorToken))).status).toBe(400)
  })

  it('answers 404 for a shipment filter naming another tenant\'s shipment', async () => {
    const theirs = await nodeApi(node)<{ id: string }>('POST', '/api/v1/shipments', beta.operatorToken, {
      reference: 'BETA-1', stops: [{ type: 'delivery', name: 'B', lat: 1, lon: 1 }],
    })
    const c = await stream(`?shipmentId=${theirs.id}`, bearer(alpha.operatorToken))
    expect(c.status).toBe(404)
  })

  it('replays what was stored after Last-Event-ID, then continues live without duplicates', async () => {
    const t = alpha.tenant.id
    // another tenant's events stored in between must not be replayed
    const [first] = await store(node, [ruleEvent(t, 'arrived')])
    await store(node, [ruleEvent(beta.tenant.id, 'arrived')])
    const [second, third] = await store(node, [ruleEvent(t, 'departed'), ruleEvent(t, 'late')])
    await store(node, [ruleEvent(beta.tenant.id, 'late')])
    const resumed = await stream('', { ...bearer(alpha.operatorToken), 'last-event-id': String(first!.id) })
    await resumed.until((c) => c.events.length === 2)
    expect(resumed.events.map((e) => e.id)).toEqual([second!.id, third!.id])
    const [live] = await produce(node, [ruleEvent(t, 'eta_updated')])
    await resumed.until((c) => c.events.length === 3)
    expect(resumed.events.map((e) => e.id)).toEqual([second!.id, third!.id, live!.id])
    // the query parameter does the same, and filters apply to the replay too
    const byQuery = await stream(`?lastEventId=${first!.id}&types=late`, bearer(alpha.operatorToken))
    await byQuery.until((c) => c.events.length === 1)
    expect(byQuery.events[0]!.id).toBe(third!.id)
  })

  it('replays at most 1000 events and says so when it had to leave older ones out', async () => {
    const stored = await store(node, Array.from({ length: 1003 }, () => ruleEvent(alpha.tenant.id, 'geofence_entered')))
    const c = await stream(`?types=geofence_entered&lastEventId=${stored[0]!.id}`, bearer(alpha.operatorToken))
    await c.until((x) => x.events.length === 1000, 10_000, '1000 replayed events')
    expect(c.frames[0]).toEqual({ event: 'truncated', data: JSON.stringify({ lastEventId: stored[0]!.id, replayedFrom: stored[3]!.id }) })
    expect(c.events.map((e) => e.id)).toEqual(stored.slice(3).map((e) => e.id))
  })

  it('accepts ?access_token= (EventSource) and lets viewers watch; refuses no, bad and device tokens', async () => {
    const viewer = await viewerToken(node, alpha)
    const byQuery = await stream(`?access_token=${encodeURIComponent(viewer)}&types=comment`, {})
    expect(byQuery.status).toBe(200)
    const [comment] = await produce(node, [ruleEvent(alpha.tenant.id, 'comment')])
    await byQuery.until((c) => c.events.length === 1)
    expect(byQuery.events[0]!.id).toBe(comment!.id)

    const none = await stream('', {})
    expect(none.status).toBe(401)
    await none.until((c) => c.ended)
    expect(none.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' })
    expect((await stream('?access_token=not.a.token', {})).status).toBe(401)
    const forged = new TokenService('another-secret-that-is-long-enough-0123456789', 60, 60).accessToken({ sub: 'x', tid: alpha.tenant.id, ten: 'alpha', role: 'admin' })
    expect((await stream(`?access_token=${forged}`, {})).status).toBe(401)
    const deviceToken = new TokenService(TEST_JWT_SECRET, 60, 60).deviceToken({ sub: alpha.devices[0]!.id, tid: alpha.tenant.id, ten: 'alpha', sv: 1 })
    expect((await stream(`?access_token=${deviceToken}`, {})).status).toBe(403)
    // the token in the query is for this route only
    expect((await fetch(`${node.http}/api/v1/shipments?access_token=${viewer}`)).status).toBe(401)
  })

  it('sends positions frames (latest fix per device, coalesced) from fixes published over MQTT', async () => {
    const device = alpha.devices[1]!
    const c = await stream(`?positions=true&deviceId=${device.id}&types=none`, bearer(alpha.operatorToken))
    const other = await stream('', bearer(alpha.operatorToken))
    const mqtt = await connect(node.mqttUrl, deviceOptions('alpha', device))
    const t0 = Date.now() - 60_000
    const readings = Array.from({ length: 20 }, (_, i) => ({ ts: t0 + i * 1000, lat: 48.1 + i * 0.0001, lon: 2.3, speed: 11, heading: 90 }))
    const latest = readings.at(-1)!
    const sent = Date.now()
    for (let i = 0; i < readings.length; i += 5) {
      await mqtt.publishAsync(`tenants/alpha/devices/${device.id}/telemetry`, JSON.stringify(readings.slice(i, i + 5)), { qos: 1 })
    }
    const frames = () => c.frames.filter((f) => f.event === 'positions').map((f) => JSON.parse(f.data) as Array<{ ts: string }>)
    await c.until(() => frames().some((p) => p[0]?.ts === new Date(latest.ts).toISOString()), 5000, 'the latest position')
    expect(frames().at(-1)).toEqual([{ deviceId: device.id, ts: new Date(latest.ts).toISOString(), lat: latest.lat, lon: latest.lon, speed: 11, heading: 90 }])
    // coalesced: one entry per device per frame, and no more than one frame per second (plus the first)
    expect(frames().every((p) => p.length === 1)).toBe(true)
    expect(frames().length).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - sent) / 1000))
    expect(other.frames.some((f) => f.event === 'positions')).toBe(false) // not asked for
    await mqtt.endAsync()
  })

  it('streams device-originated events stored by the ingestion path', async () => {
    const device = alpha.devices[0]!
    const c = await stream(`?types=sos&deviceId=${device.id}`, bearer(alpha.operatorToken))
    const mqtt = await connect(node.mqttUrl, deviceOptions('alpha', device))
    await mqtt.publishAsync(`tenants/alpha/devices/${device.id}/events`, JSON.stringify({ ts: Date.now(), type: 'sos', data: { button: 1 } }), { qos: 1 })
    await c.until((x) => x.events.length === 1)
    expect(c.events[0]).toMatchObject({ type: 'sos', source: 'device', deviceId: device.id, payload: { button: 1 } })
    await mqtt.endAsync()
  })
})

describe('live stream on shutdown', () => {
  it('ends open streams so closing the node does not wait for them', async () => {
    const node = await startNode({}, { postgres: postgresAvailable() })
    const acme = await provision(node, 'acme', 0)
    const c = await SseClient.connect(`${node.http}/api/v1/stream`, bearer(acme.operatorToken))
    expect(c.status).toBe(200)
    const started = Date.now()
    await node.close()
    expect(Date.now() - started).toBeLessThan(5000)
    await c.until((x) => x.ended, 2000, 'the stream to end')
  })
})
