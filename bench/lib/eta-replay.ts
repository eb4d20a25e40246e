// Replays a simulated trip (bench/lib/trips.ts) through ReTrack's processing core, the way a node
// runs it after the durable write: AssetPipeline with the stateful stages, every processor of
// src/core/processors.ts and a MemoryStateStore, one fix at a time, the shipment plan from a
// static context loader. Samples the `eta` feature of the asset state at fixed horizons before each
// stop's true arrival, and computes the naive baseline on exactly the same fixes.
import { haversineM } from '../../src/geo/distance.js'
import { RouteLine } from '../../src/geo/route.js'
import type { Fix } from '../../src/contracts/payloads.js'
import { stopsOnRoute, type ShipmentPlan } from '../../src/core/context.js'
import type { CoreEffect } from '../../src/core/effects.js'
import { mergeFleetPace, type FleetPace } from '../../src/core/features/fleet-pace.js'
import { speedOf, typicalPace } from '../../src/core/features/eta.js'
import type { EtaFeature } from '../../src/core/features/eta-state.js'
import type { RouteProgress } from '../../src/core/features/route.js'
import { AssetPipeline } from '../../src/core/pipeline.js'
import { buildProcessors, type ProcessingSettings } from '../../src/core/processors.js'
import { statefulStages } from '../../src/core/stages/stateful.js'
import type { FilterSettings } from '../../src/core/stages/stage.js'
import type { AssetState } from '../../src/core/state.js'
import { MemoryStateStore } from '../../src/state/memory.js'
import { percentile } from './stats.js'
import { STOP_RADIUS_M, type SimTrip } from './trips.js'

export const HORIZONS_MIN = [60, 30, 10] as const

export type Variant = 'route' | 'no-route'

export interface Sample {
  trip: string
  stop: number
  horizonMin: number
  /** epoch ms of the fix whose state answered */
  at: number
  predicted: number | null
  truth: number
  /** stops the truck still has to reach (and dwell at) before this one */
  stopsBefore: number
  /** the truck is dwelling at a stop when sampled */
  dwelling: boolean
  /** the open-road typical pace in the state then (m/s and the confidence in it), null before any */
  speed: { mps: number, confidence: number } | null
  /** the open-road speed the ETA drove at (that pace blended with the fleet's, or the default), m/s; null before any state */
  usedMps: number | null
  /** where the route feature had the truck, metres along the planned route (route variant only) */
  alongM: number | null
}

/** The plan a node would load (src/db/asset-context.ts), built from the simulation. */
export function planOf(trip: SimTrip, withRoute: boolean): ShipmentPlan {
  const stops = trip.stops.map((s) => ({
    id: s.id, seq: s.seq, type: s.type, name: s.id, lat: s.lat, lon: s.lon, radiusM: STOP_RADIUS_M, windowStart: null, windowEnd: null,
    plannedDwellS: s.plannedDwellS, status: 'pending' as const, arrivedAt: null, departedAt: null,
  }))
  let onRoute: Pick<ShipmentPlan, 'route' | 'stopAlongM' | 'stopOffRouteM'> = { route: null, stopAlongM: null, stopOffRouteM: null }
  if (withRoute) {
    const route = new RouteLine(trip.legs.flatMap((leg, i) => (i === 0 ? leg : leg.slice(1))))
    // as DbAssetContextLoader.loadPlan does
    onRoute = { route, ...stopsOnRoute(route, stops) }
  }
  return {
    id: trip.id, tenantId: trip.tenantId, reference: trip.id, status: 'assigned', vehicleId: null, stops, ...onRoute, tempMinC: null, tempMaxC: null,
  }
}

interface Wanted { stop: number, horizonMin: number, at: number }

function wantedOf(trip: SimTrip): Wanted[] {
  return trip.arrivals.flatMap((truth, stop) => HORIZONS_MIN.map((h) => ({ stop, horizonMin: h, at: truth - h * 60_000 }))).sort((a, b) => a.at - b.at)
}

function context(trip: SimTrip, stop: number, horizonMin: number, fix: Fix): Omit<Sample, 'predicted' | 'speed' | 'usedMps' | 'alongM'> {
  const at = fix.ts
  let stopsBefore = 0
  let dwelling = false
  for (let m = 0; m < stop; m++) {
    if (trip.arrivals[m]! > at) stopsBefore++
    else if (trip.departures[m]! > at) dwelling = true
  }
  return { trip: trip.id, stop, horizonMin, at, truth: trip.arrivals[stop]!, stopsBefore, dwelling }
}

/**
 * A tenant's fleet pace, kept as src/db/fleet-pace.ts keeps it but in memory: the trips of one set
 * are one fleet's, replayed one after the other (each on its own day, by its own truck), so a trip
 * starts from the paces the fleet's earlier trips handed over.
 */
export class Fleet {
  pace: FleetPace | null = null
  learn(effects: readonly CoreEffect[]): void {
    for (const e of effects) if (e.kind === 'pace') this.pace = mergeFleetPace(this.pace, e)
  }
}

export async function replay(trip: SimTrip, variant: Variant, processing: ProcessingSettings, filters: FilterSettings, fleet = new Fleet()): Promise<Sample[]> {
  const plan = planOf(trip, variant === 'route')
  let latest: AssetState | null = null
  let drops = 0
  const pipeline = new AssetPipeline(new MemoryStateStore(), statefulStages, buildProcessors(processing), filters, {
    dropped: () => { drops++ },
    accepted: (_fixes, state) => { latest = state },
    events: () => undefined,
    effects: (effects) => { fleet.learn(effects) },
  }, { load: async () => ({ vehicleId: null, fences: null, shipment: plan, fleetPace: fleet.pace }) })
  const wanted = wantedOf(trip)
  const samples: Sample[] = []
  let k = 0
  const answer = (fix: Fix | undefined, state: AssetState | null, until: number) => {
    for (; k < wanted.length && wanted[k]!.at < until; k++) {
      const w = wanted[k]!
      if (!fix || !state) continue // the trip had not started yet at this horizon
      const eta = state.features['eta'] as EtaFeature | undefined
      // the open-road pace: what the diagnosis compares with the truck's real average
      const speed = eta ? typicalPace(eta.open) : null
      const usedMps = eta ? speedOf(eta.open, fleet.pace?.open, processing.eta.defaultSpeedMps) : null
      const alongM = (state.features['route'] as RouteProgress | undefined)?.alongM ?? null
      samples.push({ ...context(trip, w.stop, w.horizonMin, fix), predicted: eta?.stops[trip.stops[w.stop]!.id]?.eta ?? null, speed, usedMps, alongM })
    }
  }
  for (let i = 0; i < trip.fixes.length; i++) {
    // a horizon falling before this fix is answered by the state the previous fix left
    answer(trip.fixes[i - 1], latest, trip.fixes[i]!.ts)
    await pipeline.submit([trip.fixes[i]!])
  }
  answer(trip.fixes.at(-1), latest, Infinity)
  if (drops > 0) throw new Error(`${trip.id}: the pipeline dropped ${drops} simulated fixes (the simulation is wrong)`)
  return samples
}

/** Every trip of a set replayed in order, as one fleet (one tenant). */
export async function replayFleet(trips: readonly SimTrip[], variant: Variant, processing: ProcessingSettings, filters: FilterSettings): Promise<Sample[]> {
  const fleet = new Fleet()
  const out: Sample[] = []
  for (const trip of trips) out.push(...await replay(trip, variant, processing, filters, fleet))
  return out
}

/** Great-circle distance ÷ a constant speed, no dwell: what a first version would do. */
export function naiveSamples(trip: SimTrip, speedMps: number): Sample[] {
  const samples: Sample[] = []
  let i = -1
  for (const w of wantedOf(trip)) {
    while (i + 1 < trip.fixes.length && trip.fixes[i + 1]!.ts <= w.at) i++
    if (i < 0) continue
    const fix = trip.fixes[i]!, stop = trip.stops[w.stop]!
    samples.push({ ...context(trip, w.stop, w.horizonMin, fix), predicted: fix.ts + (haversineM([fix.lon, fix.lat], [stop.lon, stop.lat]) / speedMps) * 1000, speed: null, usedMps: null, alongM: null })
  }
  return samples
}

export interface Accuracy { n: number, missing: number, mae: number, bias: number, p90: number }

/** Per horizon: mean absolute error, mean signed error (bias, > 0 = predicted late) and p90 |error|, in minutes. */
export function summarize(samples: readonly Sample[], filter: (s: Sample) => boolean = () => true): Map<number, Accuracy> {
  return new Map(HORIZONS_MIN.map((h) => {
    const mine = samples.filter((s) => s.horizonMin === h && filter(s))
    const errors = mine.flatMap((s) => (s.predicted === null ? [] : [(s.predicted - s.truth) / 60_000]))
    const abs = errors.map(Math.abs)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
    return [h, { n: errors.length, missing: mine.length - errors.length, mae: mean(abs), bias: mean(errors), p90: percentile(abs, 90) }]
  }))
}
