// The milestones of a shipment's stops and the shipment status changes: arrived, departed, skipped,
// late, picked_up, delivered and shipment_status events, each with the progress change it records
// and the effect that stores it.
import { haversineM } from '../../geo/distance.js'
import type { PlanStop, ShipmentPlan, ShipmentStatus } from '../context.js'
import type { ProcessContext } from '../fix-processor.js'
import type { Transition } from './membership.js'
import type { Progress, StopProgress } from './stop-progress.js'

function milestone(ctx: ProcessContext, plan: ShipmentPlan, type: string, at: number, stop: PlanStop | null, payload: Record<string, unknown>, key: string) {
  ctx.emit({
    type, ts: at, tenantId: plan.tenantId, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId,
    shipmentId: plan.id, stopId: stop?.id ?? null, dedupeKey: key,
    payload: { reference: plan.reference, ...(stop ? { stop: { seq: stop.seq, type: stop.type, name: stop.name } } : {}), ...payload },
  })
}

/**
 * `stop`: the stop that caused it (arrived at, departed from), null for the start of the trip and
 * for delivery. A transition happens once per shipment: at_stop at a stop, in_transit from a stop
 * (or at the start), delivered. That, not the time, is its dedupe key, so that two devices on one
 * vehicle, each moving the shipment a few seconds apart, store it once.
 */
export function setStatus(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, to: ShipmentStatus, at: number, stop: PlanStop | null) {
  const from = p.status
  if (from === to || from === 'delivered' || from === 'cancelled') return
  // an open exception stays until someone resolves it, but delivery still completes the shipment
  if (from === 'exception' && to !== 'delivered') return
  p.status = to
  ctx.effect({ kind: 'shipment', tenantId: plan.tenantId, shipmentId: plan.id, status: to, at })
  milestone(ctx, plan, 'shipment_status', at, null, { from, to }, `status:${plan.id}:${to}${to === 'delivered' || !stop ? '' : `:${stop.id}`}`)
}

function setStop(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, next: StopProgress) {
  p.stops[stop.id] = next
  ctx.effect({ kind: 'stop', tenantId: plan.tenantId, shipmentId: plan.id, stopId: stop.id, ...next })
}

export function arrive(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, t: Transition) {
  if (p.stops[stop.id]!.status !== 'pending') return
  for (const earlier of plan.stops) {
    if (earlier.seq >= stop.seq) continue
    const status = p.stops[earlier.id]!.status
    if (status === 'pending') {
      setStop(ctx, plan, p, earlier, { status: 'skipped' })
      delete p.membership.entering[earlier.id]
      milestone(ctx, plan, 'stop_skipped', t.at, earlier, { reachedStopSeq: stop.seq }, `skipped:${earlier.id}`)
    } else if (status === 'arrived') {
      // the asset is at a later stop, so it has left this one (still within its exit margin, when
      // the two are close): departed when it started leaving, at the latest when it got here
      const m = p.membership
      const at = Math.min(t.at, m.leaving[earlier.id] ?? t.at)
      delete m.inside[earlier.id]
      delete m.leaving[earlier.id]
      depart(ctx, plan, p, earlier, { fenceId: earlier.id, kind: 'exit', at: Math.max(at, p.stops[earlier.id]!.arrivedAt ?? at) }, false)
    }
  }
  setStop(ctx, plan, p, stop, { status: 'arrived', arrivedAt: t.at })
  milestone(ctx, plan, 'arrived', t.at, stop, { confirmedAt: ctx.fix.ts }, `arrived:${stop.id}`)
  // the deadline the ETA is judged against (src/geo/eta.ts etaStatus): the window end, or its start
  // when the window has only a start (an appointment time)
  const deadline = stop.windowEnd ?? stop.windowStart
  if (deadline !== null && t.at > deadline) {
    milestone(ctx, plan, 'late', t.at, stop, {
      minutesLate: Math.round((t.at - deadline) / 60_000), deadline: new Date(deadline).toISOString(),
      windowEnd: stop.windowEnd !== null ? new Date(stop.windowEnd).toISOString() : null,
    }, `late:${stop.id}`)
  }
  setStatus(ctx, plan, p, 'at_stop', t.at, stop)
}

/** `settle`: move the shipment on (in transit, or delivered); not when an arrival follows at once. */
export function depart(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, t: Transition, settle = true) {
  const current = p.stops[stop.id]!
  if (current.status !== 'arrived') return
  setStop(ctx, plan, p, stop, { status: 'departed', ...(current.arrivedAt !== undefined ? { arrivedAt: current.arrivedAt } : {}), departedAt: t.at })
  milestone(ctx, plan, 'departed', t.at, stop, { confirmedAt: ctx.fix.ts, dwellS: current.arrivedAt ? Math.round((t.at - current.arrivedAt) / 1000) : null }, `departed:${stop.id}`)
  if (stop.type === 'pickup') milestone(ctx, plan, 'picked_up', t.at, stop, {}, `picked_up:${stop.id}`)
  if (stop.type === 'delivery') milestone(ctx, plan, 'delivered', t.at, stop, {}, `delivered:${stop.id}`)
  if (!settle) return
  const done = plan.stops.every((s) => p.stops[s.id]!.status === 'departed' || p.stops[s.id]!.status === 'skipped')
  // the stay this delivered the shipment from: the next shipment may start with the same visit (seed)
  const stay = p.stay
  if (done && stay && current.arrivedAt !== undefined && haversineM([stay.lon, stay.lat], [stop.lon, stop.lat]) <= stop.radiusM) {
    stay.handover = { arrivedAt: current.arrivedAt, departedAt: t.at }
  }
  setStatus(ctx, plan, p, done ? 'delivered' : 'in_transit', t.at, stop)
}