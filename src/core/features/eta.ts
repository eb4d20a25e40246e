// Predicted arrival at every pending stop. Remaining distance along the planned route (or great-
// circle × a circuity factor) is split into the open road and the last/first `nearStopM` around
// stops (town and yard driving; the yard the shipment started from counts as a stop), each driven at
// its own typical pace (the interquartile mean of the moving speeds measured on such stretches)
// blended with a default by confidence; on the leg being driven, the current pace counts as long as
// it can be expected to last. The planned dwell at the stops before it (and what is left of the
// current one) is added. Against the appointment window it gives on time / at risk / late.
// eta_updated is emitted only when a stop's ETA moves by more than the threshold (or its status
// changes); delay_predicted when the ETA passes the window end, delay_cleared when it no longer does
// or the stop is reached or skipped. A pending stop the asset has driven past is behind it: the next
// stops are measured from the asset, and its own ETA is unknown (late once its window is over). While
// the asset is silent the offline sweep revises the ETAs once the clock passes them (reviseSilent).
import { haversineM } from '../../geo/distance.js'
import {
  addSpeed, blendedSpeed, etaStatus, histogramSeconds, horizonSpeed, STATIONARY_MPS, trimmedMeanSpeed, updateSpeed,
  type EtaStatus, type SpeedEstimate, type SpeedHistogram,
} from '../../geo/eta.js'
import { feature, type AssetContext, type PlanStop, type ShipmentPlan } from '../context.js'
import type { CoreEffect } from '../effects.js'
import type { CoreEvent, FixProcessor, ProcessContext } from '../fix-processor.js'
import { progressOf, type Progress } from './stops.js'
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
/**
 * `emitted`/`emittedStatus`: what was last reported (emittedStatus null: nothing yet; emitted null
 * with a status: reported as unknown). `passed`: the asset drove past it (see passed()); `silent`:
 * the asset went quiet and is overdue, the ETA reported unknown (reviseSilent); `closestM`: its
 * closest approach so far, kept only without a route.
 */
interface StopEta {
  /** the last prediction from a fix (null: passed); what was reported may differ (`silent`) */
  eta: number | null
  status: EtaStatus
  emitted: number | null
  emittedStatus: EtaStatus | null
  delay: boolean
  passed?: true
  silent?: true
  closestM?: number
}
/** `origin`: where the asset stood when its shipment began (a yard: driving around it is near-stop driving) */
export interface EtaFeature { origin?: { shipmentId: string, at: [number, number] | null }, open: Pace, near: Pace, stops: Record<string, StopEta> }

export function etaProcessor(s: EtaSettings): FixProcessor {
  return {
    name: 'eta',
    process(ctx) {
      const plan = ctx.asset.shipment
      const state = feature<EtaFeature>(ctx.next.features, 'eta', () => ({ open: {}, near: {}, stops: {} }))
      const cruising = learnPace(ctx, plan, state, s)
      // unassigned: its stops are forgotten without events (no shipment to report them on)
      if (!plan) { state.stops = {}; return }
      const progress = progressOf(ctx.next.features)
      if (progress.status === 'delivered' || progress.status === 'cancelled') { closeAll(reporterOf(ctx, plan), state); return }
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

/** Who an ETA event is about and when: a fix (predict), or the offline sweep's clock (reviseSilent). */
interface Reporter {
  plan: ShipmentPlan
  deviceId: string
  vehicleId: string | null
  ts: number
  emit: (event: CoreEvent) => void
  effect: (effect: CoreEffect) => void
}

const reporterOf = (ctx: ProcessContext, plan: ShipmentPlan): Reporter =>
  ({ plan, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId, ts: ctx.fix.ts, emit: ctx.emit, effect: ctx.effect })

/**
 * Beyond a pending stop by more than this (and its radius), with a later stop still to go, the
 * asset has passed it: the next stops are measured from the asset, not from that stop.
 */
export const PASSED_MARGIN_M = 1000

function predict(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, s: EtaSettings, cruising: boolean) {
  const progress = progressOf(ctx.next.features)
  const match = routeMatchOf(ctx.scratch)
  const openMps = speedOf(state.open, s.defaultSpeedMps)
  const nearMps = speedOf(state.near, s.nearStopSpeedMps)
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

export type DelayClearedReason = 'eta' | 'arrived' | 'skipped' | 'closed'

/**
 * A stop reached or skipped (or its shipment delivered or cancelled) has no ETA any more: its
 * record goes, and a delay predicted for it is closed (delay_cleared with the reason), so every
 * delay_predicted has its delay_cleared. Arriving late still closes it: `late` says how it ended.
 */
function close(r: Reporter, state: EtaFeature, stop: PlanStop, reason: Exclude<DelayClearedReason, 'eta'>) {
  const current = state.stops[stop.id]
  if (!current) return
  if (current.delay) delayEvent(r, stop, false, null, reason)
  delete state.stops[stop.id]
}

/** The shipment is delivered or cancelled: its open delays are closed. */
function closeAll(r: Reporter, state: EtaFeature) {
  for (const stop of r.plan.stops) close(r, state, stop, 'closed')
  state.stops = {}
}

/**
 * Records a stop's ETA (null: unknown) and status; stores eta_updated and the stop's ETA effect when
 * the ETA moved by more than the threshold, became known or unknown, or the status changed;
 * delay_predicted when the status becomes late, delay_cleared when a known status is no longer late
 * (an unknown one changes nothing: not knowing is not a recovery).
 */
function report(r: Reporter, current: StopEta, stop: PlanStop, eta: number | null, status: EtaStatus, s: Pick<EtaSettings, 'thresholdS'>): boolean {
  const { plan, ts } = r
  current.status = status
  const moved = current.emittedStatus === null || status !== current.emittedStatus || (eta === null) !== (current.emitted === null) ||
    (eta !== null && current.emitted !== null && Math.abs(eta - current.emitted) > s.thresholdS * 1000)
  if (moved) {
    const previous = current.emitted
    current.emitted = eta
    current.emittedStatus = status
    r.effect({ kind: 'eta', tenantId: plan.tenantId, shipmentId: plan.id, stopId: stop.id, eta, etaStatus: status, at: ts })
    r.emit({
      ...base(r, stop), type: 'eta_updated', dedupeKey: `eta:${stop.id}:${ts}`,
      payload: { stop: { seq: stop.seq, name: stop.name }, eta: iso(eta), etaStatus: status, previousEta: iso(previous) },
    })
  }
  const delayed = status === 'late' || (status === 'unknown' && current.delay)
  if (delayed === current.delay) return moved
  current.delay = delayed
  delayEvent(r, stop, delayed, eta, 'eta')
  return true
}

function delayEvent(r: Reporter, stop: PlanStop, delayed: boolean, eta: number | null, reason: DelayClearedReason) {
  r.emit({
    ...base(r, stop), type: delayed ? 'delay_predicted' : 'delay_cleared', dedupeKey: `delay:${stop.id}:${delayed}:${r.ts}`,
    payload: { stop: { seq: stop.seq, name: stop.name }, eta: iso(eta), windowEnd: iso(stop.windowEnd), ...(delayed ? {} : { reason }) },
  })
}

const base = (r: Reporter, stop: PlanStop) =>
  ({ tenantId: r.plan.tenantId, deviceId: r.deviceId, vehicleId: r.vehicleId, shipmentId: r.plan.id, stopId: stop.id, ts: r.ts })

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString())

/**
 * The offline sweep's revision of a silent asset's ETAs at wall-clock `now` (no fix: nothing else
 * would change them). While the wall clock is before the next stop's ETA the prediction stands (the
 * asset may be driving on, unheard). Once it has passed it without an arrival being heard, the asset
 * is **overdue**: every pending stop's ETA becomes unknown (null), and its status is judged on the
 * earliest it can arrive — not before now at the next stop, and as long after that as predicted at
 * the later ones — at least at_risk at the overdue stop (a predicted arrival has passed unseen), late
 * (with delay_predicted) once that earliest arrival is past the window end. A passed stop becomes
 * late when its window ends. The next fix recomputes everything.
 *
 * Returns whether anything changed and when the next revision could change something (null:
 * never, until a fix comes): the sweep calls again then, so a silent asset costs a handful of
 * revisions, not one per pass.
 */
export function reviseSilent(
  features: Record<string, unknown>, asset: AssetContext, deviceId: string, now: number, s: Pick<EtaSettings, 'atRiskS' | 'thresholdS'>,
  emit: (event: CoreEvent) => void, effect: (effect: CoreEffect) => void,
): { changed: boolean, dueAt: number | null } {
  const plan = asset.shipment
  const state = features['eta'] as EtaFeature | undefined
  const progress = features['stops'] as Progress | undefined
  if (!plan || !state || progress?.shipmentId !== plan.id || progress.status === 'delivered' || progress.status === 'cancelled') return { changed: false, dueAt: null }
  const r: Reporter = { plan, deviceId, vehicleId: asset.vehicleId, ts: now, emit, effect }
  const pending = plan.stops.filter((stop) => (progress.stops[stop.id]?.status ?? 'pending') === 'pending' && state.stops[stop.id])
  const chain = pending.filter((stop) => !state.stops[stop.id]!.passed && state.stops[stop.id]!.eta !== null)
  let changed = false
  let dueAt = Infinity
  const at = (t: number) => { if (t > now) dueAt = Math.min(dueAt, t) }
  const settle = (current: StopEta, stop: PlanStop, status: EtaStatus) => {
    const was = current.status
    changed = report(r, current, stop, null, status, s) || was !== status || changed
  }
  for (const stop of pending) {
    const current = state.stops[stop.id]!
    const deadline = stop.windowEnd ?? stop.windowStart
    if (!current.passed || deadline === null) continue
    if (now > deadline) { if (current.status !== 'late') settle(current, stop, 'late') } else at(deadline + 1)
  }
  const first = chain[0]
  if (!first) return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
  const firstEta = state.stops[first.id]!.eta!
  if (now < firstEta) {
    at(firstEta)
    return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
  }
  for (const stop of chain) {
    const current = state.stops[stop.id]!
    const deadline = stop.windowEnd ?? stop.windowStart
    // the earliest it can arrive: the whole chain slips by as much as the asset is overdue
    const afterFirstMs = current.eta! - firstEta
    const earliest = now + afterFirstMs
    let status = etaStatus(earliest, stop.windowStart ?? undefined, stop.windowEnd ?? undefined, s.atRiskS, current.status)
    if (stop === first && status === 'on_time') status = 'at_risk'
    changed ||= !current.silent
    current.silent = true
    settle(current, stop, status)
    if (deadline !== null) {
      // when the earliest arrival crosses the at-risk boundary and the window end
      if (RANK[status] < RANK.at_risk) at(deadline - s.atRiskS * 1000 - afterFirstMs + 1)
      if (RANK[status] < RANK.late) at(deadline - afterFirstMs + 1)
    }
  }
  return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
}

const RANK: Record<EtaStatus, number> = { unknown: 0, on_time: 1, at_risk: 2, late: 3 }
