// The eta processor through the real pipeline: the open road and the last kilometres before a stop
// are driven at their own paces, arrival is at the fence edge, and an eta_updated event is stored
// only when the ETA moves by more than the threshold.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import type { Fix } from '../../../src/contracts/payloads.js'
import type { ShipmentPlan } from '../../../src/core/context.js'
import type { EtaFeature } from '../../../src/core/features/eta.js'
import { AssetPipeline, type CoreEvent } from '../../../src/core/pipeline.js'
import { buildProcessors } from '../../../src/core/processors.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import type { AssetState } from '../../../src/core/state.js'
import { destination, haversineM } from '../../../src/geo/distance.js'
import { filterSettings, processingSettings } from '../../../src/ingest/assemble.js'
import { MemoryStateStore } from '../../../src/state/memory.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const START: [number, number] = [8, 50]
const STOP = destination(START, 90, 100_000) // 100 km due east
const RADIUS = 200
const config = loadConfig({}, { ETA_CIRCUITY: 1, ETA_NEAR_STOP_M: 3000, ETA_NEAR_STOP_SPEED_KMH: 36, ETA_DEFAULT_SPEED_KMH: 72, ETA_THRESHOLD_S: 300 })

const plan: ShipmentPlan = {
  id: 'shp', tenantId: 't', reference: 'R', status: 'assigned', vehicleId: null, route: null, stopAlongM: null, tempMinC: null, tempMaxC: null,
  stops: [{ id: 'drop', seq: 1, type: 'delivery', name: 'Drop', lat: STOP[1], lon: STOP[0], radiusM: RADIUS, windowStart: null, windowEnd: null, plannedDwellS: 0, status: 'pending', arrivedAt: null, departedAt: null }],
}

/** Drives east from START at `mps`, a fix every 30 s, for `minutes`; returns the last state and the events. */
async function drive(mps: number, minutes: number) {
  let state: AssetState | null = null
  const events: CoreEvent[] = []
  const pipeline = new AssetPipeline(new MemoryStateStore(), statefulStages, buildProcessors(processingSettings(config)), filterSettings(config), {
    dropped: (_f, reason) => { throw new Error(`dropped: ${reason}`) },
    accepted: (_fixes, s) => { state = s },
    events: (e) => { events.push(...e) },
  }, { load: async () => ({ vehicleId: null, fences: null, shipment: plan }) })
  let at: [number, number] = START
  for (let s = 0; s <= minutes * 60; s += 30) {
    at = destination(START, 90, mps * s)
    const fix: Fix = { tenantId: 't', deviceId: 'd', ts: T0 + s * 1000, receivedAt: T0 + s * 1000, lon: at[0], lat: at[1], speed: mps, accuracy: 5 }
    await pipeline.submit([fix])
  }
  const eta = state!.features['eta'] as EtaFeature
  return { eta, events, at, ts: state!.lastFix!.ts }
}

describe('eta processor', () => {
  it('drives the open road at the learned pace and the last kilometres at the near-stop pace, to the fence edge', async () => {
    // 40 min at 25 m/s (90 km/h): far longer than the confidence time, so the measured pace rules
    const { eta, at, ts } = await drive(25, 40)
    const legM = haversineM(at, STOP) - RADIUS
    const expected = ts + ((legM - 3000) / eta.open.speed!.speedMps + 3000 / 10) * 1000
    expect(eta.open.speed!.speedMps).toBeGreaterThan(23)
    expect(eta.near.speed).toBeNull() // never within 3 km of the stop yet
    expect(Math.abs(eta.stops['drop']!.eta! - expected)).toBeLessThan(60_000)
    // not the default 72 km/h: the ETA follows the truck
    const withDefault = ts + ((legM - 3000) / 20 + 300) * 1000
    expect(withDefault - eta.stops['drop']!.eta!).toBeGreaterThan(5 * 60_000)
  })

  it('learns the near-stop pace apart from the open road', async () => {
    // 100 km at 25 m/s takes 66.7 min: the last 2 minutes are within 3 km of the stop
    const { eta } = await drive(25, 65)
    expect(eta.near.speed).not.toBeNull()
    expect(eta.open.movingS).toBeGreaterThan(eta.near.movingS * 10)
  })

  it('stores an eta_updated event only when the ETA moves by more than the threshold', async () => {
    const { events } = await drive(25, 40)
    const updates = events.filter((e) => e.type === 'eta_updated')
    // 81 fixes; the ETA converges from the 72 km/h default to 90 km/h within the first minutes
    expect(updates.length).toBeGreaterThanOrEqual(1)
    expect(updates.length).toBeLessThan(10)
  })
})
