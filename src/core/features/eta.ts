// The ETA processor: at every fix, the predicted arrival at each pending stop of the asset's
// shipment, and the pace it is predicted from. What is reported and when: eta-report.ts; the
// revision while the asset is silent: eta-silent.ts; the state and settings: eta-state.ts.
import { haversineM } from '../../geo/distance.js'
import {
  addSpeed, blendedSpeed, etaStatus, histogramSeconds, horizonSpeed, STATIONARY_MPS, trimmedMeanSpeed, updateSpeed, type SpeedHistogram,
} from '../../geo/eta.js'
import { feature, type PlanStop, type ShipmentPlan } from '../context.js'
import type { FixProcessor, ProcessContext } from '../fix-processor.js'
import { progressOf } from './stop-progress.js'
import { routeMatchOf } from './route.js'
import { close, closeAll, report, reporterOf, type Reporter } from './eta-report.js'
import { handOver } from './fleet-pace.js'
import type { EtaFeature, EtaSettings, Pace, StopEta } from './eta-state.js'

/** 360 km/h: above this a speed sample is an error, not a pace. */
const MAX_PLAUSIBLE_MPS = 100
/** Moving time after which a measured speed is fully trusted over the default. */
const CONFIDENCE_S = 900
/**
 * Time constant of the current pace (updateSpeed's default): measured over the last ~5 minutes, and
 * expected to persist about as long before it reverts to the typical pace.
 */
const CURRENT_TAU_S = 300

/**
 * Predicted arrival at every pending stop. Remaining distance along the planned route (or great-
 * circle × a circuity factor) is split into the open road and the last/first `nearStopM` around
 * stops (town and yard driving; the yard the shipment started from counts as a stop), each driven at
 * its own typical pace (the interquartile mean of the moving speeds measured on such stretches)
 * blended by confidence with the fleet's (fleet-pace.ts; the configured default before there is
 * one); on the leg being driven, the current pace counts as long as it can be expected to last.
 * The planned dwell at the stops before it (and what is left of the current one) is added. Against the appointment window it gives on time / at risk / late.
 * A pending stop the asset has driven past is behind it: the next stops are measured from the asset,
 * and its own ETA is unknown (late once its window is over).
 */
export function etaProcessor(s: EtaSettings): FixProcessor {
  return {
    name: 'eta',
    process(ctx) {
      const plan = ctx.asset.shipment
      const state = feature<EtaFeature>(ctx.next.features, 'eta', () => ({ open: {}, near: {}, stops: {} }))
      const learned = learnPace(ctx, plan, state, s)
      // unassigned: its stops are forgotten without events (no shipment to report them on)
      if (!plan) { state.stops = {}; delete state.handover; return }
      const progress = progressOf(ctx.next.features)
      state.handover = handOver(ctx, plan, progress, state.handover, state, learned)
      if (progress.status === 'delivered' || progress.status === 'cancelled') { closeAll(reporterOf(ctx, plan), state); return }
      predict(ctx, plan, state, s, learned.cruising)
    },
  }
}

interface Learned {
  /** moving on the open road now */
  cruising: boolean
  /** moving seconds this fix added to the open-road and the near-stop pace */
  openS: number
  nearS: number
}

const STILL: Learned = { cruising: false, openS: 0, nearS: 0 }

/** Feeds the fix's speed to the open-road or the near-stop pace. */
function learnPace(ctx: ProcessContext, plan: ShipmentPlan | null, state: EtaFeature, s: EtaSettings): Learned {
  const last = ctx.previous.lastFix
  const dt = last && ctx.fix.ts > last.ts ? (ctx.fix.ts - last.ts) / 1000 : 0
  const sample = ctx.fix.speed ?? (dt > 0 ? haversineM([last!.lon, last!.lat], [ctx.fix.lon, ctx.fix.lat]) / dt : undefined)
  // a speed no vehicle drives (a unit error, the jump to where a relocated asset really is) says nothing about its pace
  if (sample === undefined || !(sample <= MAX_PLAUSIBLE_MPS)) return STILL
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  if (plan && state.origin?.shipmentId !== plan.id) state.origin = { shipmentId: plan.id, at: sample < STATIONARY_MPS ? here : null }
  const origin = plan ? state.origin?.at : null
  const nearStop = (plan?.stops.some((stop) => haversineM(here, [stop.lon, stop.lat]) < s.nearStopM) ?? false) ||
    (!!origin && haversineM(here, origin) < s.nearStopM)
  const p = nearStop ? state.near : state.open
  // only the open road's current pace is used (predict): near stops the leg is short anyway
  if (!nearStop) state.open.current = updateSpeed(state.open.current, ctx.fix.ts, sample, { tauS: CURRENT_TAU_S })
  if (sample < STATIONARY_MPS) return STILL
  const seconds = Math.min(dt, 300)
  p.hist = addSpeed(p.hist, sample, seconds, s.speedTauS)
  return { cruising: !nearStop, openS: nearStop ? 0 : seconds, nearS: nearStop ? seconds : 0 }
}

/** A pace's typical speed and the confidence in it (0 → none measured yet), for the ETA and for diagnostics. */
export function typicalPace(p: Pace): { mps: number, confidence: number } | null {
  const seconds = histogramSeconds(p.hist)
  const mps = trimmedMeanSpeed(p.hist, 0.25, seconds)
  return mps === undefined ? null : { mps, confidence: 1 - Math.exp(-seconds / CONFIDENCE_S) }
}

/**
 * What the ETA drives at: the pace's typical speed, blended by confidence with the fleet's (itself
 * blended with the configured default by the fleet's confidence).
 */
export function speedOf(p: Pace, fleet: SpeedHistogram | undefined, fallback: number): number {
  const prior = fleet ? speedOf({ hist: fleet }, undefined, fallback) : fallback
  const typical = typicalPace(p)
  return blendedSpeed(typical?.mps, typical?.confidence ?? 0, prior)
}

/**
 * Beyond a pending stop by more than this (and its radius), with a later stop still to go, the
 * asset has passed it: the next stops are measured from the asset, not from that stop.
 */
export const PASSED_MARGIN_M = 1000

function predict(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, s: EtaSettings, cruising: boolean) {
  const progress = progressOf(ctx.next.features)
  const match = routeMatchOf(ctx.scratch)
  const fleet = ctx.asset.fleetPace
  const openMps = speedOf(state.open, fleet?.open, s.defaultSpeedMps)
  const nearMps = speedOf(state.near, fleet?.near, s.nearStopSpeedMps)
  // the current pace only says something while the asset is driving on the open road now
  const currentMps = cruising ? state.open.current?.speedMps ?? null : null
  const ts = ctx.fix.ts
  const r = reporterOf(ctx, plan)
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  const hereAlong = match?.alongM ?? null
  const statusOf = (stop: PlanStop) => progress.stops[stop.id]?.status ?? 'pending'
  forgetOtherShipments(state, plan)
  let seconds = 0
  let from = here
  let fromAlong = hereAlong
  let fromOffM = 0 // from a stop off the route: the way back to it
  let fromStop = false // true once the leg starts at a stop (its first nearStopM are town driving)
  plan.stops.forEach((stop, i) => {
    const status = statusOf(stop)
    const along = plan.stopAlongM?.[i] ?? null
    // a stop off the planned route (beyond its end, or beside it) is that far from where the route
    // leaves it: without it, a stop past the end of a short route would be "reached" at the end
    const offM = plan.stopOffRouteM?.[i] ?? 0
    if (status === 'departed' || status === 'skipped') { close(r, state, stop, status === 'skipped' ? 'skipped' : 'arrived'); return }
    if (status === 'arrived') {
      const arrivedAt = progress.stops[stop.id]?.arrivedAt ?? ts
      seconds += Math.max(0, stop.plannedDwellS - (ts - arrivedAt) / 1000)
      close(r, state, stop, 'arrived')
    } else {
      const current = record(state, stop)
      const distM = haversineM(here, [stop.lon, stop.lat])
      // closest approach so far, for telling a stop passed by from one not reached yet without a route
      if (hereAlong === null || along === null) current.closestM = Math.round(Math.min(current.closestM ?? Infinity, distM))
      else delete current.closestM
      // only a stop the asset would drive to next can be behind it (a leg from the asset, not from a stop)
      const nextStop = fromStop ? undefined : plan.stops.slice(i + 1).find((x) => statusOf(x) === 'pending')
      if (nextStop && passed(stop, along, current, distM, hereAlong, here, nextStop)) {
        behind(r, current, stop, s)
        return // the next leg still starts at the asset, and this stop's dwell is not added
      }
      // |…|: a last stop the asset drove past is behind it, to be driven back to
      const roadM = fromAlong !== null && along !== null ? fromOffM + Math.abs(along - fromAlong) + offM : haversineM(from, [stop.lon, stop.lat]) * s.circuity
      // arrival is the first fix inside the stop's fence, not at its centre
      const legM = Math.max(0, roadM - stop.radiusM)
      const nearM = Math.min(legM, s.nearStopM * (fromStop ? 2 : 1))
      const openM = legM - nearM
      // a later leg starts long after the current pace has reverted to the typical one
      const legMps = currentMps !== null && !fromStop ? horizonSpeed(currentMps, openMps, openM / openMps, CURRENT_TAU_S) : openMps
      seconds += nearM / nearMps + openM / legMps
      const eta = Math.round(ts + seconds * 1000)
      delete current.passed
      delete current.silent
      current.eta = eta
      // an improvement smaller than the ETA's reporting threshold does not clear a warning
      report(r, current, stop, eta, etaStatus(eta, stop.windowStart ?? undefined, stop.windowEnd ?? undefined, s.atRiskS, current.status, s.thresholdS), s)
      seconds += stop.plannedDwellS
    }
    from = [stop.lon, stop.lat]
    fromAlong = along
    fromOffM = offM
    fromStop = true
  })
}

/** Without a route, a stop counts as driven by only when the asset came this close to it (the town around it). */
const NEAR_PASS_M = 3000

/**
 * Whether the asset has clearly passed `stop` (pending) on its way to `next`, the next pending stop.
 * Along the planned route: it is more than the stop's radius + PASSED_MARGIN_M further along than
 * the stop. Without one: it came within NEAR_PASS_M of the stop (it drove by, not merely
 * somewhere), is now PASSED_MARGIN_M further from it than it ever was, and nearer `next` than the
 * stop is by as much (it went on towards the next stop: a road bending away on the way to the stop,
 * or a yard between the two stops, does not count). Either way it must be outside the stop's fence
 * by PASSED_MARGIN_M: a truck in the stop's yard is at it, not past it.
 */
function passed(stop: PlanStop, along: number | null, current: StopEta, distM: number, hereAlong: number | null, here: [number, number], next: PlanStop): boolean {
  if (distM <= stop.radiusM + PASSED_MARGIN_M) return false
  if (hereAlong !== null && along !== null) return hereAlong - along > stop.radiusM + PASSED_MARGIN_M
  const closest = current.closestM ?? Infinity
  const stopToNextM = haversineM([stop.lon, stop.lat], [next.lon, next.lat])
  return closest <= NEAR_PASS_M && distM > closest + PASSED_MARGIN_M && haversineM(here, [next.lon, next.lat]) < stopToNextM - PASSED_MARGIN_M
}


/**
 * A stop the asset has passed without reaching it: no ETA (it is behind; the milestones mark it
 * skipped once a later stop is reached), status late once its window is over, unknown before.
 * Reported once, not at every fix. A delay predicted for it stays open until then (closed when it
 * is skipped or reached); a window that ends meanwhile opens one.
 */
function behind(r: Reporter, current: StopEta, stop: PlanStop, s: Pick<EtaSettings, 'thresholdS'>) {
  const deadline = stop.windowEnd ?? stop.windowStart
  current.passed = true
  delete current.silent
  current.eta = null
  report(r, current, stop, null, deadline !== null && r.ts > deadline ? 'late' : 'unknown', s)
}

function record(state: EtaFeature, stop: PlanStop): StopEta {
  return state.stops[stop.id] ??= { eta: null, status: 'unknown', emitted: null, emittedStatus: null, delay: false }
}

/** Stops of an earlier shipment (the asset carries another one now): forgotten without events. */
function forgetOtherShipments(state: EtaFeature, plan: ShipmentPlan) {
  for (const id of Object.keys(state.stops)) if (!plan.stops.some((stop) => stop.id === id)) delete state.stops[id]
}
