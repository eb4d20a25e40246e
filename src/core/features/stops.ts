// Milestones and the shipment lifecycle. Each stop of the asset's shipment has a circular fence;
// a confirmed entry is an arrival, a confirmed exit a departure (pickup → picked_up, delivery →
// delivered). An arrival needs the asset to have stopped inside (a drive-by, even a crawl through
// the fence in a jam, is not a visit); reaching a stop while earlier ones are pending skips them,
// and needs a longer stop. The shipment goes assigned → in_transit → at_stop → in_transit … →
// delivered. Progress and the asset's stay: stop-progress.ts; the events: stop-milestones.ts.
import { haversineM } from '../../geo/distance.js'
import type { PlanStop, ShipmentPlan } from '../context.js'
import type { FixProcessor, ProcessContext } from '../fix-processor.js'
import { advanceMembership, type MembershipSettings, type Motion, type Transition } from './membership.js'
import { arrive, depart, setStatus } from './stop-milestones.js'
import { motionOf, progressOf, reconcile, reset, updateStay, type Moving, type Progress } from './stop-progress.js'

export interface StopSettings extends MembershipSettings {
  /** a fix slower than this (m/s) is stationary: an arrival needs one inside the stop's fence */
  stationaryMps: number
  /** seconds stationary inside a stop's fence before it counts as reached while earlier stops are pending (they are then skipped) */
  skipStillS: number
  /** a stay: the asset within this of where it stopped */
  stayRadiusM: number
}

/**
 * A new shipment whose first stop is where the asset stays now, or where it stayed when it
 * delivered the previous shipment (back-to-back trips from one facility): that stay is the visit.
 * Ongoing, it is watched as an entry since the stay began, with its stationary time (this fix,
 * inside, then confirms it as usual); ended with the previous shipment's delivery, the stop is
 * arrived and departed with that visit. The asset state keeps no track, so an earlier stop or an
 * older stay is not looked for.
 */
function seed(ctx: ProcessContext, plan: ShipmentPlan, p: Progress) {
  const stay = p.stay
  const first = plan.stops.find((x) => p.stops[x.id]!.status === 'pending' || p.stops[x.id]!.status === 'arrived')
  if (!stay || !first || p.stops[first.id]!.status !== 'pending') return
  if (haversineM([stay.lon, stay.lat], [first.lon, first.lat]) > first.radiusM) return
  const m = p.membership
  if (stay.until === null) {
    m.entering[first.id] = stay.since
    ;(m.still ??= {})[first.id] = stay.stillS
  } else if (stay.handover) {
    const { arrivedAt, departedAt } = stay.handover
    arrive(ctx, plan, p, first, { fenceId: first.id, kind: 'enter', at: arrivedAt })
    m.inside[first.id] = arrivedAt
    m.leaving[first.id] = departedAt // departed when the previous shipment was, once this fix is beyond the margin too
  }
}

export function stopsProcessor(settings: StopSettings): FixProcessor {
  return {
    name: 'stops',
    process(ctx) {
      const plan = ctx.asset.shipment
      const p = progressOf(ctx.next.features)
      const moving = motionOf(ctx, settings.stationaryMps)
      const last = ctx.previous.lastFix
      const stillS = moving === 'still' && p.still && last ? (ctx.fix.ts - last.ts) / 1000 : 0
      if (plan) track(ctx, plan, p, settings, moving, stillS)
      else if (p.shipmentId) reset(p) // the shipment ended or was unassigned
      updateStay(p, ctx, moving, stillS, settings.stayRadiusM)
      p.still = moving === 'still'
    },
  }
}

function track(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, settings: StopSettings, moving: Moving, stillS: number) {
  const switching = p.shipmentId !== plan.id
  reconcile(p, plan, ctx.fix.ts)
  if (switching) seed(ctx, plan, p)
  const open = plan.stops.filter((s) => p.stops[s.id]!.status === 'pending' || p.stops[s.id]!.status === 'arrived')
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  const centre = new Map(open.map((s) => [s.id, haversineM(here, [s.lon, s.lat])]))
  const distances = new Map(open.map((s) => [s.id, centre.get(s.id)! - s.radiusM]))
  // inside overlapping fences, the asset is at the stop whose centre is nearest (the earlier on a
  // tie): a later stop is not entered while the asset is nearer an earlier open one it is inside
  // (a depot at both ends of a round trip, a dock 200 m from the last)
  const watched = new Map(distances)
  for (const stop of open) {
    if (p.stops[stop.id]!.status !== 'pending' || stop.id in p.membership.inside) continue
    if (open.some((e) => e.seq < stop.seq && distances.get(e.id)! <= 0 && centre.get(e.id)! <= centre.get(stop.id)!)) watched.set(stop.id, Infinity)
  }
  const motion: Motion = {
    stationary: moving === 'still',
    stillS,
    ready: (id, still) => {
      const stop = plan.stops.find((s) => s.id === id)
      if (!stop || still === undefined) return false // never stopped inside: a drive-by
      // skipping stops needs more than a halt in a jam: a real stop's worth of standing still
      const skips = plan.stops.some((e) => e.seq < stop.seq && p.stops[e.id]!.status === 'pending')
      return !skips || still >= settings.skipStillS
    },
  }
  const transitions = advanceMembership(p.membership, watched, ctx.fix.ts, ctx.fix.accuracy ?? 0, settings, motion)
  ctx.scratch['stopTransitions'] = transitions

  if (p.startedAt === undefined && (moving === 'moving' || plan.stops.some((s) => p.stops[s.id]!.status !== 'pending'))) p.startedAt = ctx.fix.ts
  if ((p.status === 'assigned' || p.status === 'planned') && transitions.length === 0 &&
    Object.keys(p.membership.inside).length === 0 && Object.keys(p.membership.entering).length === 0) {
    setStatus(ctx, plan, p, 'in_transit', ctx.fix.ts, null)
  }
  // departures first, then arrivals in stop order (a round trip starts and ends at one depot)
  const order = (t: Transition) => (t.kind === 'exit' ? -1000 : 0) + (plan.stops.find((s) => s.id === t.fenceId)?.seq ?? 0)
  for (const t of [...transitions].sort((a, b) => order(a) - order(b))) {
    const stop = plan.stops.find((s) => s.id === t.fenceId)
    if (!stop) continue
    if (t.kind === 'exit') depart(ctx, plan, p, stop, t)
    else if (blockedByEarlierStop(plan, p, stop)) {
      // beside an earlier stop still open, with stops between (a depot's returns dock on a round
      // trip): watch it again from now, so it counts once the earlier stop is done
      delete p.membership.inside[stop.id]
      delete p.membership.still?.[stop.id]
      p.membership.entering[stop.id] = ctx.fix.ts
    } else arrive(ctx, plan, p, stop, t)
  }
}

/**
 * An earlier stop, not yet departed, that holds this one back: the asset is arriving at it, or
 * still within its exit margin with stops between the two not yet reached. (Inside both fences,
 * the nearer centre decides, before any of this: see track.) Only with stops between does the margin
 * count: a stop a few hundred metres from the last one lies within that margin, and the asset
 * parked at it must arrive there (the earlier stop is then departed, see arrive); but a later stop
 * beside this one with others in between (a depot's returns dock on a round trip) is the end of
 * the trip, not something to reach on the way out.
 */
function blockedByEarlierStop(plan: ShipmentPlan, p: Progress, stop: PlanStop): boolean {
  const open = (s: PlanStop) => p.stops[s.id]!.status === 'pending' || p.stops[s.id]!.status === 'arrived'
  const stopsBetween = (s: PlanStop) => plan.stops.some((x) => x.seq > s.seq && x.seq < stop.seq && p.stops[x.id]!.status === 'pending')
  return plan.stops.some((s) => s.seq < stop.seq && open(s) &&
    (s.id in p.membership.entering || (s.id in p.membership.inside && stopsBetween(s))))
}
