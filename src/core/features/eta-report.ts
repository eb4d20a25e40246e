// What the ETA reports, and when. eta_updated is emitted only when a stop's ETA moves by more than
// the threshold (or its status changes); delay_predicted when the ETA passes the window end,
// delay_cleared when it no longer does or the stop is reached or skipped.
import type { EtaStatus } from '../../geo/eta.js'
import type { PlanStop, ShipmentPlan } from '../context.js'
import type { CoreEffect } from '../effects.js'
import type { CoreEvent, ProcessContext } from '../fix-processor.js'
import type { EtaFeature, EtaSettings, StopEta } from './eta-state.js'

/** Who an ETA event is about and when: a fix (predict), or the offline sweep's clock (reviseSilent). */
export interface Reporter {
  plan: ShipmentPlan
  deviceId: string
  vehicleId: string | null
  ts: number
  emit: (event: CoreEvent) => void
  effect: (effect: CoreEffect) => void
}

export const reporterOf = (ctx: ProcessContext, plan: ShipmentPlan): Reporter =>
  ({ plan, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId, ts: ctx.fix.ts, emit: ctx.emit, effect: ctx.effect })

export type DelayClearedReason = 'eta' | 'arrived' | 'skipped' | 'closed'

/**
 * A stop reached or skipped (or its shipment delivered or cancelled) has no ETA any more: its
 * record goes, and a delay predicted for it is closed (delay_cleared with the reason), so every
 * delay_predicted has its delay_cleared. Arriving late still closes it: `late` says how it ended.
 */
export function close(r: Reporter, state: EtaFeature, stop: PlanStop, reason: Exclude<DelayClearedReason, 'eta'>) {
  const current = state.stops[stop.id]
  if (!current) return
  if (current.delay) delayEvent(r, stop, false, null, reason)
  delete state.stops[stop.id]
}

/** The shipment is delivered or cancelled: its open delays are closed. */
export function closeAll(r: Reporter, state: EtaFeature) {
  for (const stop of r.plan.stops) close(r, state, stop, 'closed')
  state.stops = {}
}

/**
 * Records a stop's ETA (null: unknown) and status; stores eta_updated and the stop's ETA effect when
 * the ETA moved by more than the threshold, became known or unknown, or the status changed;
 * delay_predicted when the status becomes late, delay_cleared when a known status is no longer late
 * (an unknown one changes nothing: not knowing is not a recovery).
 */
export function report(r: Reporter, current: StopEta, stop: PlanStop, eta: number | null, status: EtaStatus, s: Pick<EtaSettings, 'thresholdS'>): boolean {
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
