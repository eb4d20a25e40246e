// Milestones and the shipment lifecycle, replayed as recorded tracks through the real broker and
// pipeline: exact milestone sequences, no events from drive-bys or edge jitter, and late fixes
// that change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Track, offset, type LonLat } from '../../helpers/tracks.js'
import { scenario, type Scenario } from '../../helpers/scenario.js'

const MILESTONES = new Set(['arrived', 'departed', 'picked_up', 'delivered', 'stop_skipped', 'shipment_status', 'late'])
const T0 = Date.now() - 8 * 3_600_000
// Around Lyon: a depot, a pickup 10 km away, a delivery 40 km further
const depot: LonLat = [4.80, 45.70]
const pickup: LonLat = offset(depot, 90, 10_000)
const delivery: LonLat = offset(pickup, 45, 40_000)

describe('milestones and lifecycle', () => {
  let s: Scenario
  beforeAll(async () => { s = await scenario('miles') })
  afterAll(async () => { await s?.close() })

  const sequence = async (shipmentId: string) => (await s.events(shipmentId))
    .filter((e) => MILESTONES.has(e.type))
    .map((e) => e.type === 'shipment_status' ? `status:${String(e.payload['to'])}` : `${e.type}:${String((e.payload['stop'] as { name: string } | undefined)?.name)}`)

  it('a full two-stop trip produces exactly the expected milestones, in order, and ends delivered', async () => {
    const shipment = await s.createShipment({
      reference: 'TRIP-1',
      stops: [
        { type: 'pickup', name: 'Pickup', lon: pickup[0], lat: pickup[1], plannedDwellS: 1200 },
        { type: 'delivery', name: 'Delivery', lon: delivery[0], lat: delivery[1], windowEnd: new Date(T0 + 4 * 3_600_000).toISOString(), plannedDwellS: 1800 },
      ],
    })
    const track = new Track(depot, T0)
      .driveTo(offset(pickup, 270, 50), 15).dwell(20 * 60)
      .driveTo(offset(delivery, 225, 40), 22).dwell(30 * 60)
      .driveTo(offset(delivery, 45, 5000), 15)
    await s.replay(track.fixes)
    expect(await sequence(shipment.id)).toEqual([
      'status:in_transit',
      'arrived:Pickup', 'status:at_stop',
      'departed:Pickup', 'picked_up:Pickup', 'status:in_transit',
      'arrived:Delivery', 'status:at_stop',
      'departed:Delivery', 'delivered:Delivery', 'status:delivered',
    ])
    const detail = await s.shipment(shipment.id)
    expect(detail.status).toBe('delivered')
    expect(detail.stops.map((x) => x.status)).toEqual(['departed', 'departed'])
    expect(detail.stops.every((x) => x.arrivedAt && x.departedAt)).toBe(true)
    // the ETA was predicted along the way
    expect((await s.events(shipment.id)).some((e) => e.type === 'eta_updated')).toBe(true)
    // and both legs went to the tenant's fleet pace: 10 km at 15 m/s, then 40 km at 22 m/s
    const { rows: [pace] } = await s.node.server.db.pool.query<{ open: Array<[number, number, number]>, near: Array<[number, number, number]> }>(
      'SELECT open, near FROM fleet_paces WHERE tenant_id = $1', [s.acme.tenant.id])
    const seconds = (h: Array<[number, number, number]>) => h.reduce((n, b) => n + b[1], 0)
    const metres = (h: Array<[number, number, number]>) => h.reduce((n, b) => n + b[2], 0)
    expect(seconds(pace!.open) + seconds(pace!.near)).toBeGreaterThan(0.9 * (10_000 / 15 + 40_000 / 22))
    // both legs' open road, not the first one's alone
    expect(metres(pace!.open) / seconds(pace!.open)).toBeGreaterThan(17)
    expect(metres(pace!.open) / seconds(pace!.open)).toBeLessThan(22.1)
  })

  it('a batch of hour-old fixes arriving afterwards changes no status and fires nothing', async () => {
    const before = await s.events()
    const lateTrack = new Track(depot, T0 - 3_600_000).driveTo(offset(pickup, 270, 30), 15).dwell(15 * 60).driveTo(depot, 15)
    await s.replay(lateTrack.fixes, 100)
    expect(await s.events()).toEqual(before)
    const rows = await s.node.server.db.pool.query<{ n: number }>('select count(*)::int n from positions where device_id = $1 and ts < to_timestamp($2 / 1000.0)', [s.device.id, T0])
    expect(rows.rows[0]!.n).toBe(lateTrack.fixes.length) // stored all the same
  })
})

describe('what must not fire', () => {
  let s: Scenario
  beforeAll(async () => { s = await scenario('quiet') })
  afterAll(async () => { await s?.close() })

  it('driving past a stop (through its fence, without stopping) fires no arrival', async () => {
    const stop = offset(depot, 0, 20_000)
    const shipment = await s.createShipment({ reference: 'DRIVE-BY', stops: [{ type: 'delivery', name: 'Roadside', lon: stop[0], lat: stop[1] }] })
    // passes 100 m from the centre of a 250 m fence at 60 km/h: ~28 s inside, the dwell is 120 s
    const track = new Track(offset(stop, 270, 5000), T0).driveTo(offset(offset(stop, 180, 100), 90, 5000), 16.7)
    await s.replay(track.fixes)
    const types = (await s.events(shipment.id)).map((e) => e.type)
    expect(types).not.toContain('arrived')
    expect(types).not.toContain('departed')
    expect((await s.shipment(shipment.id)).stops[0]!.status).toBe('pending')
  })

  it('ten minutes of jitter at a stop\'s fence edge after arriving: one arrival, no flapping, one departure', async () => {
    const stop = offset(depot, 180, 30_000)
    const shipment = await s.createShipment({ reference: 'JITTER', stops: [{ type: 'delivery', name: 'Dock', lon: stop[0], lat: stop[1], radiusM: 250 }] })
    const t0 = T0 + 3 * 3_600_000
    const track = new Track(offset(stop, 0, 3000), t0).driveTo(stop, 12).dwell(5 * 60)
    // parked right on the boundary: 250 m ± 40 m, in and out of the fence every few fixes
    const wobble = Array.from({ length: 60 }, (_, i) => 250 + [-35, 20, 40, -10, 30, -40, 5, 35][i % 8]!)
    track.hover(stop, 90, wobble).driveTo(offset(stop, 90, 4000), 12)
    await s.replay(track.fixes)
    const milestones = (await s.events(shipment.id)).map((e) => e.type).filter((t) => t === 'arrived' || t === 'departed')
    expect(milestones).toEqual(['arrived', 'departed'])
    const departed = (await s.events(shipment.id)).find((e) => e.type === 'departed')!
    // the departure is the moment it left for good, not one of the wobbles
    expect(departed.ts).toBeGreaterThan(t0 + 5 * 60_000 + 55 * 10_000)
  })

  it('reaching the second stop first skips the first', async () => {
    const a = offset(depot, 300, 15_000)
    const b = offset(depot, 300, 30_000)
    const shipment = await s.createShipment({ reference: 'SKIP', stops: [
      { type: 'pickup', name: 'A', lon: a[0], lat: a[1] }, { type: 'delivery', name: 'B', lon: b[0], lat: b[1] },
    ] })
    const track = new Track(offset(b, 200, 5000), T0 + 5 * 3_600_000).driveTo(b, 15).dwell(10 * 60)
    await s.replay(track.fixes)
    const types = (await s.events(shipment.id)).map((e) => e.type)
    expect(types.filter((t) => t === 'stop_skipped' || t === 'arrived')).toEqual(['stop_skipped', 'arrived'])
    expect((await s.shipment(shipment.id)).stops.map((x) => x.status)).toEqual(['skipped', 'arrived'])
  })
})
