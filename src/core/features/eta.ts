// Predicted arrival at every pending stop: remaining distance along the planned route (or great-
// circle × a circuity factor), driven at a smoothed moving speed blended with a default cruising
// speed, plus the planned dwell at the stops before it (and what is left of the current one).
// Compared with the appointment window it gives on time / at risk / late. eta_updated is emitted
// only when a stop's ETA moves by more than the threshold (or its status changes); delay_predicted
// when the ETA passes the window end, delay_cleared when it no longer does.
import { haversineM } from '../../geo/distance.js'
import { blendedSpeed, etaStatus, updateSpeed, type EtaStatus, type SpeedEstimate } from '../../geo/eta.js'
import { feature, type PlanStop, type ShipmentPlan } from '../context.js'
import type { FixProcessor, ProcessContext } from '../pipeline.js'
import { progressOf } from './stops.js'
import { routeMatchOf } from './route.js'

export interface EtaSettings {
  circuity: number
  defaultSpeedMps: number
  speedTauS: number
  thresholdS: number
  atRiskS: number
}

interface StopEta { eta: number | null, status: EtaStatus, emitted: number | null, emittedStatus: EtaStatus | null, delay: boolean }
export interface EtaFeature { speed: SpeedEstimate | null, stops: Record<string, StopEta> }

export function etaProcessor(s: EtaSettings): FixProcessor {
  return {
    name: 'eta',
    process(ctx) {
      const plan = ctx.asset.shipment
      const state = feature<EtaFeature>(ctx.next.features, 'eta', () => ({ speed: null, stops: {} }))
      const last = ctx.previous.lastFix
      const sample = ctx.fix.speed ?? (last && ctx.fix.ts > last.ts ? haversineM([last.lon, last.lat], [ctx.fix.lon, ctx.fix.lat]) / ((ctx.fix.ts - last.ts) / 1000) : undefined)
      if (sample !== undefined) state.speed = updateSpeed(state.speed ?? undefined, ctx.fix.ts, sample, { tauS: s.speedTauS })
      if (!plan) { state.stops = {}; return }
      const progress = progressOf(ctx.next.features)
      if (progress.status === 'delivered' || progress.status === 'cancelled') return
      const speed = blendedSpeed(state.speed?.speedMps, state.speed?.weight ?? 0, s.defaultSpeedMps)
      predict(ctx, plan, state, speed, s)
    },
  }
}

function predict(ctx: ProcessContext, plan: ShipmentPlan, state: EtaFeature, speedMps: number, s: EtaSettings) {
  const progress = progressOf(ctx.next.features)
  const match = routeMatchOf(ctx.scratch)
  const ts = ctx.fix.ts
  let seconds = 0
  let from: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  let fromAlong = match?.alongM ?? null
  plan.stops.forEach((stop, i) => {
    const status = progress.stops[stop.id]?.status ?? 'pending'
    const along = plan.stopAlongM?.[i] ?? null
    if (status === 'departed' || status === 'skipped') { delete state.stops[stop.id]; return }
    if (status === 'arrived') {
      const arrivedAt = progress.stops[stop.id]?.arrivedAt ?? ts
      seconds += Math.max(0, stop.plannedDwellS - (ts - arrivedAt) / 1000)
      delete state.stops[stop.id]
    } else {
      const legM = fromAlong !== null && along !== null ? Math.max(0, along - fromAlong) : haversineM(from, [stop.lon, stop.lat]) * s.circuity
      seconds += legM / speedMps
      update(ctx, plan, state, stop, ts + seconds * 1000, s)
      seconds += stop.plannedDwellS
    }
    from = [stop.lon, stop.lat]
    fromAlong = along
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
