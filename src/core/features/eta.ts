// Predicted arrival at every pending stop. Remaining distance along the planned route (or great-
// circle × a circuity factor) is split into the open road and the last/first `nearStopM` around
// stops (town and yard driving; the yard the shipment started from counts as a stop), each driven at
// its own typical pace (the interquartile mean of the moving speeds measured on such stretches)
// blended with a default by confidence; on the leg being driven, the current pace counts as long as
// it can be expected to last. The planned dwell at the stops before it (and what is left of the
// current one) is added. Against the appointment window it gives on time / at risk / late.
// eta_updated is emitted only when a stop's ETA moves by more than the threshold (or its status
// changes); delay_predicted when the ETA passes the window end, delay_cleared when it no longer does.
import { haversineM } from '../../geo/distance.js'
import {
  addSpeed, blendedSpeed, etaStatus, histogramSeconds, horizonSpeed, STATIONARY_MPS, trimmedMeanSpeed, updateSpeed,
  type EtaStatus, type SpeedEstimate, type SpeedHistogram,
} from '../../geo/eta.js'
import { feature, type PlanStop, type ShipmentPlan } from '../context.js'
import type { FixProcessor, ProcessContext } from '../pipeline.js'
import { progressOf } from './stops.js'
import { routeMatchOf } from './route.js'

export interface EtaSettings {
  circuity: number
  defaultSpeedMps: number
  /** default for the stretches within nearStopM of a stop */
  nearStopSpeedMps: number
  nearStopM: number
  /** memory of the typical pace, in moving time */
  speedTauS: number
  thresholdS: number
  atRiskS: number
}

/** 360 km/h: above this a speed sample is an error, not a pace. */
const MAX_PLAUSIBLE_MPS = 100
/** Moving time after which a measured speed is fully trusted over the default. */
const CONFIDENCE_S = 900
/**
 * Time constant of the current pace (updateSpeed's default): measured over the last ~5 minutes, and
 * expected to persist about as long before it reverts to the typical pace.
 */
const CURRENT_TAU_S = 300

/** `hist` is missing in states written before it existed; `current` is the last few minutes' pace (open road only) */
interface Pace { hist?: SpeedHistogram, current?: SpeedEstimate }
interface StopEta { eta: number | null, status: EtaStatus, emitted: number | null, emittedStatus: EtaStatus | null, delay: boolean }
/** `origin`: where the asset stood when its shipment began (a yard: driving around it is near-stop driving) */
export interface EtaFeature { origin?: { shipmentId: string, at: [number, number] | null }, open: Pace, near: Pace, stops: Record<string, StopEta> }

export function etaProcessor(s: EtaSettings): FixProcessor {
  return {
    name: 'eta',
    process(ctx) {
      const plan = ctx.asset.shipment
      const state = feature<EtaFeature>(ctx.next.features, 'eta', () => ({ open: {}, near: {}, stops: {} }))
      const cruising = learnPace(ctx, plan, state, s)
      if (!plan) { state.stops = {}; return }
      const progress = progressOf(ctx.next.features)
      if (progress.status === 'delivered' || progress.status === 'cancelled') return
      predict(ctx, plan, state, s, cruising)
    },
  }
}

/** Feeds the fix's speed to the open-road or the near-stop pace; true when it was moving on the open road. */
function learnPace(ctx: ProcessContext, plan: ShipmentPlan | null, state: EtaFeature, s: EtaSettings): boolean {
  const last = ctx.previous.lastFix
  const dt = last && ctx.fix.ts > last.ts ? (ctx.fix.ts - last.ts) / 1000 : 0
  const sample = ctx.fix.speed ?? (dt > 0 ? haversineM([last!.lon, last!.lat], [ctx.fix.lon, ctx.fix.lat]) / dt : undefined)
  // a speed no vehicle drives (a unit error, the jump to where a relocated asset really is) says nothing about its pace
  if (sample === undefined || !(sample <= MAX_PLAUSIBLE_MPS)) return false
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  if (plan && state.origin?.shipmentId !== plan.id) state.origin = { shipmentId: plan.id, at: sample < STATIONARY_MPS ? here : null }
  const origin = plan ? state.origin?.at : null
  const nearStop = (plan?.stops.some((stop) => haversineM(here, [stop.lon, stop.lat]) < s.nearStopM) ?? false) ||
    (!!origin && haversineM(here, origin) < s.nearStopM)
  const p = nearStop ? state.near : state.open
  // only the open road's current pace is used (predict): near stops the leg is short anyway
  if (!nearStop) state.open.current = updateSpeed(state.open.current, ctx.fix.ts, sample, { tauS: CURRENT_TAU_S })
  if (sample < STATIONARY_MPS) return false
  p.hist = addSpeed(p.hist, sample, Math.min(dt, 300), s.speedTauS)
  return !nearStop
}

/** A pace's typical speed and the confidence in it (0 → none measured yet), for the ETA and for diagnostics. */
export function typicalPace(p: Pace): { mps: number, confidence: number } | null {
  const seconds = histogramSeconds(p.hist)
  const mps = trimmedMeanSpeed(p.hist, 0.25, seconds)
  return mps === undefined ? null : { mps, confidence: 1 - Math.exp(-seconds / CONFIDENCE_S) }
}

function speedOf(p: Pace, fallback: number) {
  const typical = typicalPace(p)
  return blendedSpeed(typical?.mps, typical?.confidence ?? 0, fallback)
}

function predict(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, s: EtaSettings, cruising: boolean) {
  const progress = progressOf(ctx.next.features)
  const match = routeMatchOf(ctx.scratch)
  const openMps = speedOf(state.open, s.defaultSpeedMps)
  const nearMps = speedOf(state.near, s.nearStopSpeedMps)
  // the current pace only says something while the asset is driving on the open road now
  const currentMps = cruising ? state.open.current?.speedMps ?? null : null
  const ts = ctx.fix.ts
  let seconds = 0
  let from: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  let fromAlong = match?.alongM ?? null
  let fromOffM = 0 // from a stop off the route: the way back to it
  let fromStop = false // true once the leg starts at a stop (its first nearStopM are town driving)
  plan.stops.forEach((stop, i) => {
    const status = progress.stops[stop.id]?.status ?? 'pending'
    const along = plan.stopAlongM?.[i] ?? null
    // a stop off the planned route (beyond its end, or beside it) is that far from where the route
    // leaves it: without it, a stop past the end of a short route would be "reached" at the end
    const offM = plan.stopOffRouteM?.[i] ?? 0
    if (status === 'departed' || status === 'skipped') { delete state.stops[stop.id]; return }
    if (status === 'arrived') {
      const arrivedAt = progress.stops[stop.id]?.arrivedAt ?? ts
      seconds += Math.max(0, stop.plannedDwellS - (ts - arrivedAt) / 1000)
      delete state.stops[stop.id]
    } else {
      const roadM = fromAlong !== null && along !== null ? fromOffM + Math.max(0, along - fromAlong) + offM : haversineM(from, [stop.lon, stop.lat]) * s.circuity
      // arrival is the first fix inside the stop's fence, not at its centre
      const legM = Math.max(0, roadM - stop.radiusM)
      const nearM = Math.min(legM, s.nearStopM * (fromStop ? 2 : 1))
      const openM = legM - nearM
      // a later leg starts long after the current pace has reverted to the typical one
      const legMps = currentMps !== null && !fromStop ? horizonSpeed(currentMps, openMps, openM / openMps, CURRENT_TAU_S) : openMps
      seconds += nearM / nearMps + openM / legMps
      update(ctx, plan, state, stop, ts + seconds * 1000, s)
      seconds += stop.plannedDwellS
    }
    from = [stop.lon, stop.lat]
    fromAlong = along
    fromOffM = offM
    fromStop = true
  })
}

function update(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, stop: PlanStop, eta: number, s: EtaSettings) {
  const current = state.stops[stop.id] ??= { eta: null, status: 'unknown', emitted: null, emittedStatus: null, delay: false }
  // an improvement smaller than the ETA's reporting threshold does not clear a warning
  const status = etaStatus(eta, stop.windowStart ?? undefined, stop.windowEnd ?? undefined, s.atRiskS, current.status, s.thresholdS)
  current.eta = Math.round(eta)
  current.status = status
  const base = { tenantId: plan.tenantId, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId, shipmentId: plan.id, stopId: stop.id, ts: ctx.fix.ts }
  const moved = current.emitted === null || Math.abs(eta - current.emitted) > s.thresholdS * 1000 || status !== current.emittedStatus
  if (moved) {
    const previous = current.emitted
    current.emitted = current.eta
    current.emittedStatus = status
    ctx.effect({ kind: 'eta', tenantId: plan.tenantId, shipmentId: plan.id, stopId: stop.id, eta: current.eta, etaStatus: status, at: ctx.fix.ts })
    ctx.emit({ ...base, type: 'eta_updated', payload: { stop: { seq: stop.seq, name: stop.name }, eta: new Date(current.eta).toISOString(), etaStatus: status, previousEta: previous ? new Date(previous).toISOString() : null }, dedupeKey: `eta:${stop.id}:${ctx.fix.ts}` })
  }
  const delayed = status === 'late'
  if (delayed !== current.delay) {
    current.delay = delayed
    const windowEnd = stop.windowEnd ? new Date(stop.windowEnd).toISOString() : null
    ctx.emit({ ...base, type: delayed ? 'delay_predicted' : 'delay_cleared', payload: { stop: { seq: stop.seq, name: stop.name }, eta: new Date(current.eta).toISOString(), windowEnd }, dedupeKey: `delay:${stop.id}:${delayed}:${ctx.fix.ts}` })
  }
}
