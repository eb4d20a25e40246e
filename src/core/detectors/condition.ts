// The shape every anomaly detector shares: a condition that, once it has held for `forS`, fires
// its event once, and clears once when the opposite has held (hysteresis lives in the predicates).
import type { CoreEvent, ProcessContext } from '../fix-processor.js'
import { feature } from '../context.js'
import { progressOf } from '../features/stop-progress.js'

export interface Condition {
  active: boolean
  /** when the raising (or, while active, the clearing) predicate first held, event time */
  pendingSince: number | null
  /** for a condition about the shipment (its route, its temperature range): which one (absent in older states) */
  shipmentId?: string | null
}

export interface ConditionSpec {
  name: string
  raised: string
  cleared: string
  forS: number
  clearForS?: number
}

/**
 * Advances a condition with one observation: `raise` = the anomaly is present now, `clear` = it is
 * clearly gone now (both false = inside the hysteresis band: nothing changes).
 */
export function observe(ctx: ProcessContext, spec: ConditionSpec, raise: boolean, clear: boolean, payload: Record<string, unknown>): void {
  const c = feature<Condition>(ctx.next.features, spec.name, () => ({ active: false, pendingSince: null }))
  const ts = ctx.fix.ts
  const watching = c.active ? clear : raise
  if (!watching) { c.pendingSince = null; return }
  c.pendingSince ??= ts
  const needS = c.active ? spec.clearForS ?? 0 : spec.forS
  if (ts - c.pendingSince < needS * 1000) return
  const at = c.pendingSince
  c.active = !c.active
  c.pendingSince = null
  ctx.emit(anomalyEvent(ctx, c.active ? spec.raised : spec.cleared, at, payload))
}

/**
 * For a condition that only means something for one shipment (off its route, outside its
 * temperature range): call on every fix, before any early return. When the asset's shipment has
 * changed or ended, the condition is forgotten, silently: it cannot clear any more (the new plan
 * has no such route or range, or another one), and left active it would never clear and hide the
 * next shipment's own excursion.
 */
export function followShipment(ctx: ProcessContext, name: string): void {
  const c = feature<Condition>(ctx.next.features, name, () => ({ active: false, pendingSince: null }))
  const id = ctx.asset.shipment?.id ?? null
  // a state written before the field existed: the condition belongs to the shipment carried now
  if (c.shipmentId !== undefined && c.shipmentId !== id) {
    c.active = false
    c.pendingSince = null
  }
  c.shipmentId = id
}

/**
 * The asset's shipment is done: delivered or cancelled, or every stop reached (arrived, departed) or
 * skipped. Its route and its temperature range raise nothing new then: a backlog that goes on past
 * the last stop in the same batch (the plan only changes between batches) is not off its route, and
 * the goods are unloaded. An alert already raised may still clear.
 */
export function shipmentClosed(ctx: Pick<ProcessContext, 'asset' | 'next'>): boolean {
  const plan = ctx.asset.shipment
  if (!plan) return false
  if (plan.status === 'delivered' || plan.status === 'cancelled') return true
  const progress = progressOf(ctx.next.features)
  if (progress.shipmentId !== plan.id) return false
  if (progress.status === 'delivered' || progress.status === 'cancelled') return true
  return plan.stops.length > 0 && plan.stops.every((stop) => (progress.stops[stop.id]?.status ?? 'pending') !== 'pending')
}

export function anomalyEvent(ctx: Pick<ProcessContext, 'fix' | 'asset'>, type: string, at: number, payload: Record<string, unknown>): CoreEvent {
  return {
    type, ts: at, tenantId: ctx.fix.tenantId, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId,
    shipmentId: ctx.asset.shipment?.id ?? null, payload, dedupeKey: `${type}:${ctx.fix.deviceId}:${at}`,
  }
}
