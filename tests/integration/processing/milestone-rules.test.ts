// Milestone rules found by a processing audit, each replayed as a recorded track (one fix per
// 30 s, in batches) through the real broker and pipeline, default settings: an arrival needs a stop
// inside the fence (a crawl through it in a jam is not a visit, and skipping stops needs a real
// stop's worth of standing still), overlapping fences go to the nearer stop, a shipment that starts
// where the truck already is (or where its previous shipment just ended) gets its first stop, a
// window with only a start is a deadline on arrival too, no unplanned stop before the trip starts,
// and a status transition is stored once per shipment however many devices report it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { Reading } from '../../../src/contracts/payloads.js'
import { Track, offset, type LonLat } from '../../helpers/tracks.js'
import { scenario, type Scenario } from '../../helpers/scenario.js'
import { connect, deviceOptions, nodeApi } from '../../helpers/server.js'

const MILESTONES = new Set(['arrived', 'departed', 'picked_up', 'delivered', 'stop_skipped', 'shipment_status', 'late'])
const HOUR = 3_600_000
const T0 = Date.now() - 30 * HOUR
/** each test its own three hours of event time, on the same device */
const slot = (n: number) => T0 + n * 3 * HOUR
const yard: LonLat = [5.37, 43.30] // Marseille

describe('milestone rules', () => {
  let s: Scenario
  beforeAll(async () => { s = await scenario('rules') })
  afterAll(async () => { await s?.close() })

  const sequence = async (shipmentId: string) => (await s.events(shipmentId))
    .filter((e) => MILESTONES.has(e.type))
    .map((e) => e.type === 'shipment_status' ? `status:${String(e.payload['to'])}` : `${e.type}:${String((e.payload['stop'] as { name: string } | undefined)?.name)}`)

  it('crawling through a later stop\'s fence in a jam (even halting a minute) neither skips the next stop nor arrives', async () => {
    const P = offset(yard, 0, 5000)
    const B = offset(P, 90, 10_000) // on the road to A
    const A = offset(P, 90, 20_000)
    const shipment = await s.createShipment({ reference: 'JAM', stops: [
      { type: 'pickup', name: 'P', lon: P[0], lat: P[1] },
      { type: 'delivery', name: 'A', lon: A[0], lat: A[1] },
      { type: 'delivery', name: 'B', lon: B[0], lat: B[1] },
    ] })
    const t = new Track(offset(P, 270, 3000), slot(0), 30).driveTo(P, 15).dwell(20 * 60)
      // 500 m through B's 250 m fence at 2.5 m/s (200 s inside), halting a minute in the middle
      .driveTo(offset(B, 270, 250), 15).driveTo(B, 2.5).dwell(60).driveTo(offset(B, 90, 250), 2.5)
      .driveTo(A, 15).dwell(20 * 60).driveTo(B, 15).dwell(20 * 60).driveTo(offset(B, 0, 5000), 15)
    await s.replay(t.fixes)
    expect(await sequence(shipment.id)).toEqual([
      'status:in_transit',
      'arrived:P', 'status:at_stop', 'departed:P', 'picked_up:P', 'status:in_transit',
      'arrived:A', 'status:at_stop', 'departed:A', 'delivered:A', 'status:in_transit',
      'arrived:B', 'status:at_stop', 'departed:B', 'delivered:B', 'status:delivered',
    ])
  })

  it('crawling through the next stop\'s fence without ever stopping is no arrival', async () => {
    const D = offset(yard, 180, 20_000)
    const shipment = await s.createShipment({ reference: 'CRAWL', stops: [{ type: 'delivery', name: 'D', lon: D[0], lat: D[1] }] })
    const t = new Track(offset(D, 270, 5000), slot(1), 30).driveTo(offset(D, 270, 250), 15).driveTo(offset(D, 90, 250), 2.5).driveTo(offset(D, 90, 5000), 15)
    await s.replay(t.fixes)
    expect(await sequence(shipment.id)).toEqual(['status:in_transit'])
    expect((await s.shipment(shipment.id)).stops[0]!.status).toBe('pending')
  })

  it('a window with only a start (an appointment) makes a later arrival late', async () => {
    const D = offset(yard, 200, 15_000)
    const t0 = slot(2)
    const appointment = t0 + 10 * 60_000 // 15 km away: it gets there after about 17 minutes
    const shipment = await s.createShipment({ reference: 'APPT', stops: [{ type: 'delivery', name: 'D', lon: D[0], lat: D[1], windowStart: new Date(appointment).toISOString() }] })
    const t = new Track(offset(D, 0, 15_000), t0, 30).driveTo(D, 15).dwell(15 * 60).driveTo(offset(D, 180, 3000), 15)
    await s.replay(t.fixes)
    expect(await sequence(shipment.id)).toEqual(['status:in_transit', 'arrived:D', 'late:D', 'status:at_stop', 'departed:D', 'delivered:D', 'status:delivered'])
    const late = (await s.events(shipment.id)).find((e) => e.type === 'late')!
    expect(late.payload).toMatchObject({ deadline: new Date(appointment).toISOString(), windowEnd: null })
    expect(late.payload['minutesLate']).toBeGreaterThanOrEqual(5)
  })

  it('a stop whose fence overlaps the previous one\'s is arrived at once the truck parks nearer it', async () => {
    const P = offset(yard, 90, 30_000)
    const W = offset(P, 90, 200) // fences of 250 m: each centre inside the other's fence
    const D2 = offset(P, 0, 20_000)
    const shipment = await s.createShipment({ reference: 'OVERLAP', stops: [
      { type: 'pickup', name: 'P', lon: P[0], lat: P[1] },
      { type: 'pickup', name: 'W', lon: W[0], lat: W[1] },
      { type: 'delivery', name: 'D2', lon: D2[0], lat: D2[1] },
    ] })
    const t = new Track(offset(P, 270, 5000), slot(3), 30).driveTo(P, 15).dwell(30 * 60).driveTo(W, 3).dwell(30 * 60)
      .driveTo(D2, 15).dwell(20 * 60).driveTo(offset(D2, 0, 5000), 15)
    await s.replay(t.fixes)
    expect(await sequence(shipment.id)).toEqual([
      'status:in_transit',
      'arrived:P', 'status:at_stop', 'departed:P', 'picked_up:P', 'arrived:W', 'departed:W', 'picked_up:W', 'status:in_transit',
      'arrived:D2', 'status:at_stop', 'departed:D2', 'delivered:D2', 'status:delivered',
    ])
    const detail = await s.shipment(shipment.id)
    expect(detail.status).toBe('delivered')
    // P left when the truck settled at W, W left on the way to D2
    expect(Date.parse(detail.stops[0]!.departedAt!)).toBeLessThanOrEqual(Date.parse(detail.stops[1]!.arrivedAt!))
    expect(Date.parse(detail.stops[1]!.arrivedAt!)).toBeGreaterThan(slot(3) + 30 * 60_000)
  })

  it('a shipment created while the truck is parked at its pickup: arrived since the truck stopped there, then picked up', async () => {
    const P = offset(yard, 300, 25_000)
    const D = offset(P, 0, 20_000)
    const t = new Track(offset(P, 180, 4000), slot(4), 30).driveTo(P, 15)
    const stoppedAt = t.now + 30_000
    t.dwell(30 * 60)
    await s.replay(t.fixes) // no shipment yet (the previous one is delivered)
    const shipment = await s.createShipment({ reference: 'LATE-ORDER', stops: [
      { type: 'pickup', name: 'P', lon: P[0], lat: P[1] }, { type: 'delivery', name: 'D', lon: D[0], lat: D[1] },
    ] })
    const before = t.fixes.length
    t.dwell(60).driveTo(D, 15).dwell(20 * 60).driveTo(offset(D, 0, 4000), 15)
    await s.replay(t.fixes.slice(before))
    expect(await sequence(shipment.id)).toEqual([
      'arrived:P', 'status:at_stop', 'departed:P', 'picked_up:P', 'status:in_transit',
      'arrived:D', 'status:at_stop', 'departed:D', 'delivered:D', 'status:delivered',
    ])
    const arrived = (await s.events(shipment.id)).find((e) => e.type === 'arrived')!
    expect(arrived.ts).toBe(stoppedAt)
  })

  it('back-to-back shipments at one facility: the next one is picked up in the same stay the last one was delivered in', async () => {
    const P = offset(yard, 30, 20_000)
    const DC = offset(P, 90, 20_000)
    const X = offset(DC, 90, 20_000)
    const first = await s.createShipment({ reference: 'LEG-1', stops: [
      { type: 'pickup', name: 'P', lon: P[0], lat: P[1] }, { type: 'delivery', name: 'DC', lon: DC[0], lat: DC[1] },
    ] })
    // the truck's next trip, planned before it reaches DC (not cancelling the first: scenario.createShipment would)
    const api = nodeApi(s.node)
    const second = await api<{ id: string }>('POST', '/api/v1/shipments', s.acme.operatorToken, {
      reference: 'LEG-2', deviceId: s.device.id, stops: [
        { type: 'pickup', name: 'DC', lon: DC[0], lat: DC[1] }, { type: 'delivery', name: 'X', lon: X[0], lat: X[1] },
      ],
    })
    const t = new Track(offset(P, 270, 3000), slot(5), 30).driveTo(P, 15).dwell(20 * 60).driveTo(DC, 15).dwell(60 * 60)
      .driveTo(X, 15).dwell(20 * 60).driveTo(offset(X, 90, 4000), 15)
    await s.replay(t.fixes)
    expect(await sequence(first.id)).toEqual([
      'status:in_transit', 'arrived:P', 'status:at_stop', 'departed:P', 'picked_up:P', 'status:in_transit',
      'arrived:DC', 'status:at_stop', 'departed:DC', 'delivered:DC', 'status:delivered',
    ])
    expect(await sequence(second.id)).toEqual([
      'arrived:DC', 'status:at_stop', 'departed:DC', 'picked_up:DC', 'status:in_transit',
      'arrived:X', 'status:at_stop', 'departed:X', 'delivered:X', 'status:delivered',
    ])
    const events = [...await s.events(first.id), ...await s.events(second.id)]
    const at = (type: string, shipmentOf: string) => events.find((e) => e.type === type && (e.payload['reference'] === shipmentOf) && (e.payload['stop'] as { name: string } | undefined)?.name === 'DC')!.ts
    // one visit: the same arrival and departure for both
    expect(at('arrived', 'LEG-2')).toBe(at('arrived', 'LEG-1'))
    expect(at('departed', 'LEG-2')).toBe(at('departed', 'LEG-1'))
  })

  it('an hour in the own yard before the trip is no unplanned stop; one on the way still is', async () => {
    const P = offset(yard, 0, 5000)
    const D = offset(P, 0, 30_000)
    const shipment = await s.createShipment({ reference: 'YARD', stops: [
      { type: 'pickup', name: 'P', lon: P[0], lat: P[1] }, { type: 'delivery', name: 'D', lon: D[0], lat: D[1] },
    ] })
    const lay = offset(P, 0, 15_000)
    const t = new Track(yard, slot(6), 30).dwell(60 * 60).driveTo(P, 12).dwell(20 * 60)
      .driveTo(lay, 15).dwell(25 * 60).driveTo(D, 15).dwell(20 * 60).driveTo(offset(D, 0, 4000), 15)
    await s.replay(t.fixes)
    const events = await s.events(shipment.id)
    const stops = events.filter((e) => e.type === 'unplanned_stop' || e.type === 'unplanned_stop_ended')
    expect(stops.map((e) => e.type)).toEqual(['unplanned_stop', 'unplanned_stop_ended'])
    expect(stops[0]!.ts).toBeGreaterThan(slot(6) + 60 * 60_000) // the lay-by, not the yard
  })
})

describe('two devices on one vehicle', () => {
  let s: Scenario
  let second: MqttClient | undefined
  beforeAll(async () => { s = await scenario('pair') })
  afterAll(async () => { second?.end(true); await s?.close() })

  it('store each shipment status transition once, the repeats of a multi-stop trip included', async () => {
    const api = nodeApi(s.node)
    const admin = s.acme.adminToken
    const vehicle = await api<{ id: string }>('POST', '/api/v1/vehicles', admin, { name: 'Truck 2', plate: 'PAIR-1' })
    const other = await api<{ device: { id: string }, secret: string }>('POST', '/api/v1/devices', admin, { name: 'tracker-b' })
    for (const id of [s.device.id, other.device.id]) await api('PATCH', `/api/v1/devices/${id}`, admin, { vehicleId: vehicle.id })
    second = await connect(s.node.mqttUrl, deviceOptions('pair', { id: other.device.id, secret: other.secret }))
    const P = offset(yard, 45, 10_000)
    const M = offset(P, 45, 20_000)
    const D = offset(M, 45, 20_000)
    const shipment = await api<{ id: string }>('POST', '/api/v1/shipments', s.acme.operatorToken, {
      reference: 'PAIR', vehicleId: vehicle.id, stops: [
        { type: 'pickup', name: 'P', lon: P[0], lat: P[1] }, { type: 'waypoint', name: 'M', lon: M[0], lat: M[1] },
        { type: 'delivery', name: 'D', lon: D[0], lat: D[1] },
      ],
    })
    const t = new Track(offset(P, 225, 4000), slot(0), 30).driveTo(P, 15).dwell(20 * 60).driveTo(M, 15).dwell(20 * 60)
      .driveTo(D, 15).dwell(20 * 60).driveTo(offset(D, 45, 4000), 15)
    // the second device reports the same trip 18 s later, a few metres off
    const shifted: Reading[] = t.fixes.map((f) => ({ ...f, ts: (f.ts as number) + 18_000, lat: f.lat + 2e-5 }))
    const topic = (id: string) => `tenants/pair/devices/${id}/telemetry`
    for (let i = 0; i < t.fixes.length; i += 50) {
      await s.client.publishAsync(topic(s.device.id), JSON.stringify(t.fixes.slice(i, i + 50)), { qos: 1 })
      await second.publishAsync(topic(other.device.id), JSON.stringify(shifted.slice(i, i + 50)), { qos: 1 })
      await s.node.server.ingestion.pipeline.idle()
    }
    await s.node.server.ingestion.drain()
    const { rows } = await s.node.server.db.pool.query<{ to: string }>(
      `select payload->>'to' as "to" from tracking_events where tenant_id = $1 and shipment_id = $2 and type = 'shipment_status' order by ts, id`, [s.acme.tenant.id, shipment.id])
    expect(rows.map((r) => r.to)).toEqual(['in_transit', 'at_stop', 'in_transit', 'at_stop', 'in_transit', 'at_stop', 'delivered'])
  })
})
