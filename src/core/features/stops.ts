// Milestones and the shipment lifecycle. Each stop of the asset's shipment has a circular fence;
// a confirmed entry is an arrival, a confirmed exit a departure (pickup → picked_up, delivery →
// delivered). Reaching a stop while earlier ones are pending skips them. The shipment goes
// assigned → in_transit → at_stop → in_transit … → delivered. Progress lives in the asset state
// (so it moves in event time, under the asset's compare-and-set); the database gets it as effects.
import { haversineM } from '../../geo/distance.js'
import { feature, type PlanStop, type ShipmentPlan, type ShipmentStatus, type StopStatus } from '../context.js'
import type { FixProcessor, ProcessContext } from '../pipeline.js'
import { advanceMembership, emptyMembership, type Membership, type MembershipSettings, type Transition } from './membership.js'

export interface StopProgress { status: StopStatus, arrivedAt?: number, departedAt?: number }

export interface Progress {
  shipmentId: string | null
  status: ShipmentStatus | null
  stops: Record<string, StopProgress>
  membership: Membership
}

export const emptyProgress = (): Progress => ({ shipmentId: null, status: null, stops: {}, membership: emptyMembership() })
export const progressOf = (features: Record<string, unknown>) => feature(features, 'stops', emptyProgress)

const rank: Record<StopStatus, number> = { pending: 0, arrived: 1, departed: 2, skipped: 3 }

/**
 * Starts (or re-reads) progress from the plan: the database wins where it is further along (an operator skipped a stop).
 * A stop that is arrived but not in the membership (the asset state was lost or reset while the
 * database kept the arrival: a restart on in-memory state, a shipment reassigned and back) is
 * watched as a fence the asset is inside again, so that leaving it still departs it.
 */
function reconcile(p: Progress, plan: ShipmentPlan, ts: number): void {
  if (p.shipmentId !== plan.id) {
    Object.assign(p, { ...emptyProgress(), shipmentId: plan.id, status: plan.status })
  }
  if (plan.status === 'exception' || plan.status === 'delivered') p.status = plan.status
  for (const stop of plan.stops) {
    const mine = p.stops[stop.id]
    if (!mine || rank[stop.status] > rank[mine.status]) {
      p.stops[stop.id] = { status: stop.status, ...(stop.arrivedAt ? { arrivedAt: stop.arrivedAt } : {}), ...(stop.departedAt ? { departedAt: stop.departedAt } : {}) }
    }
    const now = p.stops[stop.id]!
    if (now.status === 'arrived' && !(stop.id in p.membership.inside)) {
      delete p.membership.entering[stop.id]
      p.membership.inside[stop.id] = Math.min(ts, now.arrivedAt ?? ts)
    }
  }
}

export function stopsProcessor(settings: MembershipSettings): FixProcessor {
  return {
    name: 'stops',
    process(ctx) {
      const plan = ctx.asset.shipment
      const p = progressOf(ctx.next.features)
      if (!plan) {
        if (p.shipmentId) Object.assign(p, emptyProgress()) // the shipment ended or was unassigned
        return
      }
      reconcile(p, plan, ctx.fix.ts)
      const open = plan.stops.filter((s) => p.stops[s.id]!.status === 'pending' || p.stops[s.id]!.status === 'arrived')
      const distances = new Map(open.map((s) => [s.id, haversineM([ctx.fix.lon, ctx.fix.lat], [s.lon, s.lat]) - s.radiusM]))
      const transitions = advanceMembership(p.membership, distances, ctx.fix.ts, ctx.fix.accuracy ?? 0, settings)
      ctx.scratch['stopTransitions'] = transitions

      if ((p.status === 'assigned' || p.status === 'planned') && transitions.length === 0 &&
        Object.keys(p.membership.inside).length === 0 && Object.keys(p.membership.entering).length === 0) {
        setStatus(ctx, plan, p, 'in_transit', ctx.fix.ts)
      }
      // departures first, then arrivals in stop order (a round trip starts and ends at one depot)
      const order = (t: Transition) => (t.kind === 'exit' ? -1000 : 0) + (plan.stops.find((s) => s.id === t.fenceId)?.seq ?? 0)
      for (const t of [...transitions].sort((a, b) => order(a) - order(b))) {
        const stop = plan.stops.find((s) => s.id === t.fenceId)
        if (!stop) continue
        if (t.kind === 'exit') depart(ctx, plan, p, stop, t)
        else if (blockedByEarlierStop(plan, p, stop, distances)) {
          // the same place as an earlier stop still open (a depot at both ends of a round trip):
          // watch it again from now, so it counts once the earlier stop is done
          delete p.membership.inside[stop.id]
          p.membership.entering[stop.id] = ctx.fix.ts
        } else arrive(ctx, plan, p, stop, t)
      }
    },
  }
}

/**
 * An earlier stop, not yet departed, that holds this one back: the asset is at it (inside its fence)
 * or arriving at it, or still within its exit margin with stops between the two not yet reached.
 * Only then does the margin count: a stop a few hundred metres from the last one lies within that
 * margin, and the asset parked at it must arrive there (the earlier stop is then departed, see
 * arrive); but a later stop beside this one with others in between (a depot's returns dock on a
 * round trip) is the end of the trip, not something to reach on the way out.
 */
function blockedByEarlierStop(plan: ShipmentPlan, p: Progress, stop: PlanStop, distances: ReadonlyMap<string, number>): boolean {
  const open = (s: PlanStop) => p.stops[s.id]!.status === 'pending' || p.stops[s.id]!.status === 'arrived'
  const stopsBetween = (s: PlanStop) => plan.stops.some((x) => x.seq > s.seq && x.seq < stop.seq && p.stops[x.id]!.status === 'pending')
  return plan.stops.some((s) => s.seq < stop.seq && open(s) &&
    ((distances.get(s.id) ?? Infinity) <= 0 || s.id in p.membership.entering || (s.id in p.membership.inside && stopsBetween(s))))
}

function milestone(ctx: ProcessContext, plan: ShipmentPlan, type: string, at: number, stop: PlanStop | null, payload: Record<string, unknown>, key: string) {
  ctx.emit({
    type, ts: at, tenantId: plan.tenantId, deviceId: ctx.fix.deviceId, vehicleId: ctx.asset.vehicleId,
    shipmentId: plan.id, stopId: stop?.id ?? null, dedupeKey: key,
    payload: { reference: plan.reference, ...(stop ? { stop: { seq: stop.seq, type: stop.type, name: stop.name } } : {}), ...payload },
  })
}

function setStatus(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, to: ShipmentStatus, at: number) {
  const from = p.status
  if (from === to || from === 'delivered' || from === 'cancelled') return
  // an open exception stays until someone resolves it, but delivery still completes the shipment
  if (from === 'exception' && to !== 'delivered') return
  p.status = to
  ctx.effect({ kind: 'shipment', tenantId: plan.tenantId, shipmentId: plan.id, status: to, at })
  milestone(ctx, plan, 'shipment_status', at, null, { from, to }, `status:${plan.id}:${to}:${at}`)
}

function setStop(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, next: StopProgress) {
  p.stops[stop.id] = next
  ctx.effect({ kind: 'stop', tenantId: plan.tenantId, shipmentId: plan.id, stopId: stop.id, ...next })
}

function arrive(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, t: Transition) {
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
  if (stop.windowEnd !== null && t.at > stop.windowEnd) {
    milestone(ctx, plan, 'late', t.at, stop, { minutesLate: Math.round((t.at - stop.windowEnd) / 60_000), windowEnd: new Date(stop.windowEnd).toISOString() }, `late:${stop.id}`)
  }
  setStatus(ctx, plan, p, 'at_stop', t.at)
}

/** `settle`: move the shipment on (in transit, or delivered); not when an arrival follows at once. */
function depart(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, t: Transition, settle = true) {
  const current = p.stops[stop.id]!
  if (current.status !== 'arrived') return
  setStop(ctx, plan, p, stop, { status: 'departed', ...(current.arrivedAt !== undefined ? { arrivedAt: current.arrivedAt } : {}), departedAt: t.at })
  milestone(ctx, plan, 'departed', t.at, stop, { confirmedAt: ctx.fix.ts, dwellS: current.arrivedAt ? Math.round((t.at - current.arrivedAt) / 1000) : null }, `departed:${stop.id}`)
  if (stop.type === 'pickup') milestone(ctx, plan, 'picked_up', t.at, stop, {}, `picked_up:${stop.id}`)
  if (stop.type === 'delivery') milestone(ctx, plan, 'delivered', t.at, stop, {}, `delivered:${stop.id}`)
  if (!settle) return
  const done = plan.stops.every((s) => p.stops[s.id]!.status === 'departed' || p.stops[s.id]!.status === 'skipped')
  setStatus(ctx, plan, p, done ? 'delivered' : 'in_transit', t.at)
}
