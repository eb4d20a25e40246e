// Predicted arrival at every pending stop. Remaining distance along the planned route (or great-
// circle × a circuity factor) is split into the open road and the last/first `nearStopM` around
// stops (town and yard driving), each driven at its own smoothed moving speed blended with a
// default; the planned dwell at the stops before it (and what is left of the current one) is added.
// Against the appointment window it gives on time / at risk / late. eta_updated is emitted only
// when a stop's ETA moves by more than the threshold (or its status changes); delay_predicted when
// the ETA passes the window end, delay_cleared when it no longer does.
import { haversineM } from '../../geo/distance.js'
import { blendedSpeed, etaStatus, updateSpeed, type EtaStatus, type SpeedEstimate } from '../../geo/eta.js'
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
  speedTauS: number
  thresholdS: number
  atRiskS: number
}

/** Moving time after which a measured speed is fully trusted over the default. */
const CONFIDENCE_S = 900

interface Pace { speed: SpeedEstimate | null, movingS: number }
interface StopEta { eta: number | null, status: EtaStatus, emitted: number | null, emittedStatus: EtaStatus | null, delay: boolean }
export interface EtaFeature { open: Pace, near: Pace, stops: Record<string, StopEta> }

const pace = (): Pace => ({ speed: null, movingS: 0 })

export function etaProcessor(s: EtaSettings): FixProcessor {
  return {
    name: 'eta',
    process(ctx) {
      const plan = ctx.asset.shipment
      const state = feature<EtaFeature>(ctx.next.features, 'eta', () => ({ open: pace(), near: pace(), stops: {} }))
      learnPace(ctx, plan, state, s)
      if (!plan) { state.stops = {}; return }
      const progress = progressOf(ctx.next.features)
      if (progress.status === 'delivered' || progress.status === 'cancelled') return
      predict(ctx, plan, state, s)
    },
  }
}

/** Feeds the fix's speed to the open-road or the near-stop pace, whichever stretch it is on. */
function learnPace(ctx: ProcessContext, plan: ShipmentPlan | null, state: EtaFeature, s: EtaSettings) {
  const last = ctx.previous.lastFix
  const dt = last && ctx.fix.ts > last.ts ? (ctx.fix.ts - last.ts) / 1000 : 0
  const sample = ctx.fix.speed ?? (dt > 0 ? haversineM([last!.lon, last!.lat], [ctx.fix.lon, ctx.fix.lat]) / dt : undefined)
  if (sample === undefined) return
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  const nearStop = plan?.stops.some((stop) => haversineM(here, [stop.lon, stop.lat]) < s.nearStopM) ?? false
  const p = nearStop ? state.near : state.open
  p.speed = updateSpeed(p.speed ?? undefined, ctx.fix.ts, sample, { tauS: s.speedTauS })
  if (sample >= 1) p.movingS += Math.min(dt, 300)
}

const speedOf = (p: Pace, fallback: number) => blendedSpeed(p.speed?.speedMps, 1 - Math.exp(-p.movingS / CONFIDENCE_S), fallback)

function predict(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, s: EtaSettings) {
  const progress = progressOf(ctx.next.features)
  const match = routeMatchOf(ctx.scratch)
  const openMps = speedOf(state.open, s.defaultSpeedMps)
  const nearMps = speedOf(state.near, s.nearStopSpeedMps)
  const ts = ctx.fix.ts
  let seconds = 0
  let from: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  let fromAlong = match?.alongM ?? null
  let fromStop = false // true once the leg starts at a stop (its first nearStopM are town driving)
  plan.stops.forEach((stop, i) => {
    const status = progress.stops[stop.id]?.status ?? 'pending'
    const along = plan.stopAlongM?.[i] ?? null
    if (status === 'departed' || status === 'skipped') { delete state.stops[stop.id]; return }
    if (status === 'arrived') {
      const arrivedAt = progress.stops[stop.id]?.arrivedAt ?? ts
      seconds += Math.max(0, stop.plannedDwellS - (ts - arrivedAt) / 1000)
      delete state.stops[stop.id]
    } else {
      const roadM = fromAlong !== null && along !== null ? Math.max(0, along - fromAlong) : haversineM(from, [stop.lon, stop.lat]) * s.circuity
      // arrival is the first fix inside the stop's fence, not at its centre
      const legM = Math.max(0, roadM - stop.radiusM)
      const nearM = Math.min(legM, s.nearStopM * (fromStop ? 2 : 1))
      seconds += nearM / nearMps + (legM - nearM) / openMps
      update(ctx, plan, state, stop, ts + seconds * 1000, s)
      seconds += stop.plannedDwellS
    }
    from = [stop.lon, stop.lat]
    fromAlong = along
    fromStop = true
  })
}

function update(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, stop: PlanStop, eta: number, s: EtaSettings) {
  const status = etaStatus(eta, stop.windowStart ?? undefined, stop.windowEnd ?? undefined, s.atRiskS)
  const current = state.stops[stop.id] ??= { eta: null, status: 'unknown', emitted: null, emittedStatus: null, delay: false }
  current.eta = Math.round(eta)
  current.status = status
  const base = { tenantId: plan.tenantId, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId, shipmentId: plan.id, stopId: stop.id, ts: ctx.fix.ts }
  const moved = current.emitted === null || Math.abs(eta - current.emitted) >= s.thresholdS * 1000 || status !== current.emittedStatus
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
