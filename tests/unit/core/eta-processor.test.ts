// The eta processor through the real pipeline: the open road and the last kilometres before a stop
// are driven at their own paces (robust to a jam, the shipment's starting yard counting as a stop),
// the current pace counts on the leg being driven, arrival is at the fence edge, and an eta_updated
// event is stored only when the ETA moves by more than the threshold.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import type { Fix } from '../../../src/contracts/payloads.js'
import { stopsOnRoute, type ShipmentPlan } from '../../../src/core/context.js'
import { typicalPace } from '../../../src/core/features/eta.js'
import type { EtaFeature } from '../../../src/core/features/eta-state.js'
import { AssetPipeline } from '../../../src/core/pipeline.js'
import type { CoreEvent } from '../../../src/core/fix-processor.js'
import { buildProcessors } from '../../../src/core/processors.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import type { AssetState } from '../../../src/core/state.js'
import { destination, haversineM } from '../../../src/geo/distance.js'
import { filterSettings, processingSettings } from '../../../src/ingest/assemble.js'
import { MemoryStateStore } from '../../../src/state/memory.js'
import { RouteLine } from '../../../src/geo/route.js'
import { Track, offset } from '../../helpers/tracks.js'
import { plan as shipmentPlan, rig, stop } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const START: [number, number] = [8, 50]
const STOP = destination(START, 90, 100_000) // 100 km due east
const RADIUS = 200
const config = loadConfig({}, { ETA_CIRCUITY: 1, ETA_NEAR_STOP_M: 3000, ETA_NEAR_STOP_SPEED_KMH: 36, ETA_DEFAULT_SPEED_KMH: 72, ETA_THRESHOLD_S: 300 })

const plan: ShipmentPlan = {
  id: 'shp', tenantId: 't', reference: 'R', status: 'assigned', vehicleId: null, route: null, stopAlongM: null, stopOffRouteM: null, tempMinC: null, tempMaxC: null,
  stops: [{ id: 'drop', seq: 1, type: 'delivery', name: 'Drop', lat: STOP[1], lon: STOP[0], radiusM: RADIUS, windowStart: null, windowEnd: null, plannedDwellS: 0, status: 'pending', arrivedAt: null, departedAt: null }],
}

/** Drives east from START, a fix every 30 s, at `mps(s)` (s = seconds since START, 0 = parked); returns the last state and the events. */
async function drive(mps: number | ((s: number) => number), minutes: number, reported: (s: number, mps: number) => number = (_s, v) => v) {
  const speed = typeof mps === 'number' ? () => mps : mps
  let state: AssetState | null = null
  const events: CoreEvent[] = []
  const pipeline = new AssetPipeline(new MemoryStateStore(), statefulStages, buildProcessors(processingSettings(config)), filterSettings(config), {
    dropped: (_f, reason) => { throw new Error(`dropped: ${reason}`) },
    accepted: (_fixes, s) => { state = s },
    events: (e) => { events.push(...e) },
  }, { load: async () => ({ vehicleId: null, fences: null, shipment: plan }) })
  let at: [number, number] = START
  let m = 0
  for (let s = 0; s <= minutes * 60; s += 30) {
    const v = speed(s)
    m += s > 0 ? v * 30 : 0
    at = destination(START, 90, m)
    const fix: Fix = { tenantId: 't', deviceId: 'd', ts: T0 + s * 1000, receivedAt: T0 + s * 1000, lon: at[0], lat: at[1], speed: reported(s, v), accuracy: 5 }
    await pipeline.submit([fix])
  }
  const eta = state!.features['eta'] as EtaFeature
  return { eta, events, at, ts: state!.lastFix!.ts }
}

const openMps = (eta: EtaFeature) => typicalPace(eta.open)!.mps
const remainingS = (r: Awaited<ReturnType<typeof drive>>) => (r.eta.stops['drop']!.eta! - r.ts) / 1000

describe('eta processor', () => {
  it('drives the open road at the learned pace and the last kilometres at the near-stop pace, to the fence edge', async () => {
    // 40 min at 25 m/s (90 km/h): far longer than the confidence time, so the measured pace rules
    const { eta, at, ts } = await drive(25, 40)
    const legM = haversineM(at, STOP) - RADIUS
    expect(openMps(eta)).toBeCloseTo(25, 1)
    expect(typicalPace(eta.near)).toBeNull() // never within 3 km of the stop yet
    // on the leg being driven the current pace counts too; here it is the same 25 m/s
    const expected = ts + ((legM - 3000) / 25 + 3000 / 10) * 1000
    expect(Math.abs(eta.stops['drop']!.eta! - expected)).toBeLessThan(60_000)
    // not the default 72 km/h: the ETA follows the truck
    const withDefault = ts + ((legM - 3000) / 20 + 300) * 1000
    expect(withDefault - eta.stops['drop']!.eta!).toBeGreaterThan(5 * 60_000)
  })

  it('learns the near-stop pace apart from the open road', async () => {
    // 100 km at 25 m/s takes 66.7 min: the last 2 minutes are within 3 km of the stop
    const { eta } = await drive(25, 65)
    expect(typicalPace(eta.near)).not.toBeNull()
    expect(typicalPace(eta.open)!.confidence).toBeGreaterThan(0.95)
    expect(typicalPace(eta.near)!.confidence).toBeLessThan(0.3)
  })

  it('ignores a speed no vehicle drives (a unit error) instead of learning it as the pace', async () => {
    // every fourth fix reports 1e308 m/s: learned, it would make the pace absurd (or NaN)
    const r = await drive(25, 40, (s, v) => (s % 120 === 0 && s > 0 ? 1e308 : v))
    expect(openMps(r.eta)).toBeCloseTo(25, 1)
    expect(Number.isFinite(remainingS(r))).toBe(true)
  })

  it('keeps a jam out of the typical pace: the interquartile mean, not the mean', async () => {
    // 50 min at 25 m/s with a 10-minute crawl at 5 m/s in the middle: the mean would be ~21.7 m/s
    const r = await drive((s) => (s > 1200 && s <= 1800 ? 5 : 25), 50)
    expect(openMps(r.eta)).toBeCloseTo(25, 1)
  })

  it('counts driving around the yard the shipment started from as near-stop driving', async () => {
    // parked 2 min, then 3 min at 8 m/s (within 3 km of the start), then 30 min at 25 m/s
    const fromYard = await drive((s) => (s <= 120 ? 0 : s <= 300 ? 8 : 25), 35)
    expect(fromYard.eta.origin?.at).not.toBeNull()
    expect(typicalPace(fromYard.eta.near)!.mps).toBeLessThan(15) // no stop is near: it is the yard
    expect(openMps(fromYard.eta)).toBeCloseTo(25, 1)
    // a shipment picked up on the move has no yard to learn from
    const onTheMove = await drive(25, 35)
    expect(onTheMove.eta.origin?.at).toBeNull()
    expect(typicalPace(onTheMove.eta.near)).toBeNull()
  })

  it('expects the current pace to last a few minutes, then the typical one', async () => {
    // 40 min at 25 m/s, then 5 min at 12 m/s (11% of the time: below the interquartile range, so
    // the typical pace stays 25 m/s); ~36 km are left, ~22 minutes at 25 m/s
    const slow = await drive((s) => (s > 2400 ? 12 : 25), 45)
    const steady = await drive(25, 45)
    expect(openMps(slow.eta)).toBeCloseTo(25, 1)
    const openS = (r: typeof slow, mps: number) => (haversineM(r.at, STOP) - RADIUS - 3000) / mps + 3000 / 10
    // later than at the typical pace throughout, far earlier than at the current pace throughout
    expect(remainingS(slow)).toBeGreaterThan(openS(slow, 25) + 60)
    expect(remainingS(slow)).toBeLessThan(openS(slow, 25) + (openS(slow, 12) - openS(slow, 25)) / 3)
    expect(Math.abs(remainingS(steady) - openS(steady, 25))).toBeLessThan(30)
  })

  it('stores an eta_updated event only when the ETA moves by more than the threshold', async () => {
    const { events } = await drive(25, 40)
    const updates = events.filter((e) => e.type === 'eta_updated')
    // 81 fixes; the ETA converges from the 72 km/h default to 90 km/h within the first minutes
    expect(updates.length).toBeGreaterThanOrEqual(1)
    expect(updates.length).toBeLessThan(10)
  })
})

describe('eta processor, stops off the planned route', () => {
  it('a stop beyond the end of a short route is not "reached" at the route\'s end', async () => {
    const end = offset(START, 90, 20_000)
    const far = offset(end, 0, 30_000) // 30 km past the route's last point
    const route = new RouteLine([START, end])
    const stops = [stop('far', 0, 'delivery', far)]
    const r = rig(shipmentPlan('s', stops, { route, ...stopsOnRoute(route, stops) }))
    const t = new Track(START, T0).driveTo(end, 20)
    await r.feed(t.fixes)
    const eta = (await r.state())!.features['eta'] as EtaFeature
    const leftS = (eta.stops['far']!.eta! - t.now) / 1000
    // ~30 km at most ~20 m/s: well over 20 minutes, not 0
    expect(leftS).toBeGreaterThan(1200)
    expect(Number.isFinite(leftS)).toBe(true)
  })
})
