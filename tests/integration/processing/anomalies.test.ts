// Each anomaly fires once and clears once, replayed through the real broker and pipeline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Track, offset, type LonLat } from '../../helpers/tracks.js'
import { scenario, type Scenario } from '../../helpers/scenario.js'
import { eventually } from '../../helpers/server.js'

const start: LonLat = [2.35, 48.85] // Paris
const T0 = Date.now() - 20 * 3_600_000

describe('anomalies fire once and clear once', () => {
  let s: Scenario
  let shipmentId: string
  const of = async (...types: string[]) => (await s.events()).filter((e) => types.includes(e.type)).map((e) => e.type)

  beforeAll(async () => {
    s = await scenario('anomaly', { UNPLANNED_STOP_S: 900, OFF_ROUTE_M: 1000, OFF_ROUTE_S: 120, TEMP_EXCURSION_S: 300, OFFLINE_AFTER_S: 1 })
    // a 200 km route due east with a far delivery stop, 2–8 °C
    const end = offset(start, 90, 200_000)
    const shipment = await s.createShipment({
      reference: 'ANOMALY', tempMinC: 2, tempMaxC: 8,
      route: { type: 'LineString', coordinates: [start, offset(start, 90, 50_000), offset(start, 90, 100_000), offset(start, 90, 150_000), end] },
      stops: [{ type: 'delivery', name: 'Far away', lon: end[0], lat: end[1] }],
    })
    shipmentId = shipment.id
  })
  afterAll(async () => { await s?.close() })

  let track: Track
  it('off route: 3 km off the route for 5 minutes, then back', async () => {
    track = new Track(start, T0).driveTo(offset(start, 90, 10_000), 20)
    const detourFrom = track.position
    track.driveTo(offset(detourFrom, 0, 3000), 15).driveTo(offset(offset(detourFrom, 0, 3000), 90, 5000), 15)
      .driveTo(offset(detourFrom, 90, 6000), 15).driveTo(offset(detourFrom, 90, 15_000), 20)
    await s.replay(track.fixes)
    expect(await of('off_route', 'back_on_route')).toEqual(['off_route', 'back_on_route'])
    const off = (await s.events()).find((e) => e.type === 'off_route')!
    expect(off.payload['offsetM']).toBeGreaterThan(1000)
  })

  it('unplanned stop: 20 minutes parked on the road, then moving again', async () => {
    const t = new Track(track.position, track.now).dwell(20 * 60).driveTo(offset(track.position, 90, 10_000), 20)
    await s.replay(t.fixes)
    track = t
    expect(await of('unplanned_stop', 'unplanned_stop_ended')).toEqual(['unplanned_stop', 'unplanned_stop_ended'])
  })

  it('low battery: below 15 % once (hovering at the threshold does not repeat it), recovered above 25 %', async () => {
    const t = new Track(track.position, track.now)
    for (const battery of [30, 20, 14, 16, 14, 13, 16, 20, 24, 27, 40]) t.driveTo(offset(t.position, 90, 300), 20, { battery })
    await s.replay(t.fixes)
    track = t
    expect(await of('low_battery', 'battery_recovered')).toEqual(['low_battery', 'battery_recovered'])
  })

  it('temperature: above 8 °C for more than 5 minutes once, back to normal once', async () => {
    const t = new Track(track.position, track.now, 30)
    const temps = [5, 6, 8.6, 9, 7.9, 9.5, 9.2, 9.8, 10, 9.7, 9.9, 10.1, 9.6, 9.4, 9.1, 7.7, 7.2, 6]
    for (const temp of temps) t.driveTo(offset(t.position, 90, 500), 16, { attrs: { temp } })
    await s.replay(t.fixes)
    track = t
    expect(await of('temperature_excursion', 'temperature_normal')).toEqual(['temperature_excursion', 'temperature_normal'])
  })

  it('GPS jump: one fix 100 km away is dropped and reported, the next good fix clears it', async () => {
    const t = new Track(track.position, track.now, 30).driveTo(offset(track.position, 90, 1000), 20)
    const jumpAt = t.now + 30_000
    const fixes = [...t.fixes, { ts: jumpAt, lat: offset(t.position, 0, 100_000)[1], lon: offset(t.position, 0, 100_000)[0], accuracy: 8 }]
    const after = new Track(t.position, jumpAt, 30).driveTo(offset(t.position, 90, 2000), 20)
    await s.replay([...fixes, ...after.fixes])
    track = after
    expect(await of('gps_jump', 'gps_jump_cleared')).toEqual(['gps_jump', 'gps_jump_cleared'])
    const marked = await s.node.server.db.pool.query<{ filter_reason: string }>('select filter_reason from positions where device_id = $1 and ts = to_timestamp($2 / 1000.0)', [s.device.id, jumpAt])
    await eventually(async () => (await s.node.server.db.pool.query<{ filter_reason: string | null }>('select filter_reason from positions where device_id = $1 and ts = to_timestamp($2 / 1000.0)', [s.device.id, jumpAt])).rows[0]?.filter_reason === 'impossible_jump', 3000, 'jump marked')
    expect(marked.rowCount).toBe(1)
  })

  it('device offline by the wall-clock sweep once (even when sweeps repeat), online again with the next fix', async () => {
    await new Promise((r) => setTimeout(r, 1200))
    expect(await s.node.server.sweep.sweep()).toBe(1)
    expect(await s.node.server.sweep.sweep()).toBe(0)
    await s.node.server.ingestion.drain()
    const t = new Track(track.position, track.now, 30).driveTo(offset(track.position, 90, 600), 20)
    await s.replay(t.fixes)
    expect(await of('device_offline', 'device_online')).toEqual(['device_offline', 'device_online'])
  })

  it('every anomaly event is tied to the shipment and the device', async () => {
    const anomalies = (await s.events()).filter((e) => !['eta_updated', 'shipment_status'].includes(e.type))
    expect(anomalies.length).toBeGreaterThanOrEqual(12)
    const withShipment = await s.events(shipmentId)
    expect(withShipment.length).toBeGreaterThanOrEqual(anomalies.length)
  })
})
