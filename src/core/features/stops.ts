// Milestones and the shipment lifecycle. Each stop of the asset's shipment has a circular fence;
// a confirmed entry is an arrival, a confirmed exit a departure (pickup → picked_up, delivery →
// delivered). An arrival needs the asset to have stopped inside (a drive-by, even a crawl through
// the fence in a jam, is not a visit); reaching a stop while earlier ones are pending skips them,
// and needs a longer stop. The shipment goes assigned → in_transit → at_stop → in_transit … →
// delivered. Progress lives in the asset state (so it moves in event time, under the asset's
// compare-and-set); the database gets it as effects. Where the asset last stayed is kept across
// shipments, so a shipment that starts where the asset is (or where the previous one just ended)
// still gets its first stop.
import { haversineM } from '../../geo/distance.js'
import { feature, type PlanStop, type ShipmentPlan, type ShipmentStatus, type StopStatus } from '../context.js'
import type { FixProcessor, ProcessContext } from '../fix-processor.js'
import { advanceMembership, emptyMembership, type Membership, type MembershipSettings, type Motion, type Transition } from './membership.js'

export interface StopSettings extends MembershipSettings {
  /** a fix slower than this (m/s) is stationary: an arrival needs one inside the stop's fence */
  stationaryMps: number
  /** seconds stationary inside a stop's fence before it counts as reached while earlier stops are pending (they are then skipped) */
  skipStillS: number
  /** a stay: the asset within this of where it stopped */
  stayRadiusM: number
}

export interface StopProgress { status: StopStatus, arrivedAt?: number, departedAt?: number }

/**
 * Where the asset last stopped: it has been (or was, until `until`) within `stayRadiusM` of
 * lon/lat since `since` (its first stationary fix there), stationary for `stillS` seconds of it.
 * `handover`: a shipment was delivered by leaving it, with that visit's arrival and departure.
 */
export interface Stay { lon: number, lat: number, since: number, until: number | null, stillS: number, handover?: { arrivedAt: number, departedAt: number } }

export interface Progress {
  shipmentId: string | null
  status: ShipmentStatus | null
  stops: Record<string, StopProgress>
  membership: Membership
  /** event time the trip started: the first moving fix under this shipment, or a stop reached or skipped */
  startedAt?: number
  /** the asset's last stay, kept across shipments (not reset with the rest) */
  stay?: Stay
  /** the last fix was stationary */
  still?: boolean
}

export const emptyProgress = (): Progress => ({ shipmentId: null, status: null, stops: {}, membership: emptyMembership() })
export const progressOf = (features: Record<string, unknown>) => feature(features, 'stops', emptyProgress)

/** Starts `p` afresh (another shipment, or none), keeping what belongs to the asset rather than to the shipment. */
function reset(p: Progress, shipmentId: string | null = null, status: ShipmentStatus | null = null) {
  const { stay, still } = p
  for (const key of Object.keys(p) as Array<keyof Progress>) delete p[key]
  Object.assign(p, { ...emptyProgress(), shipmentId, status, ...(stay ? { stay } : {}), ...(still !== undefined ? { still } : {}) })
}

const rank: Record<StopStatus, number> = { pending: 0, arrived: 1, departed: 2, skipped: 3 }

/**
 * Starts (or re-reads) progress from the plan: the database wins where it is further along (an operator skipped a stop).
 * A stop that is arrived but not in the membership (the asset state was lost or reset while the
 * database kept the arrival: a restart on in-memory state, a shipment reassigned and back) is
 * watched as a fence the asset is inside again, so that leaving it still departs it.
 */
function reconcile(p: Progress, plan: ShipmentPlan, ts: number): void {
  if (p.shipmentId !== plan.id) reset(p, plan.id, plan.status)
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

type Moving = 'still' | 'moving' | 'unknown'

/**
 * Stationary: the reported speed below the limit, or without one, the distance from the previous
 * fix (less a quarter of the two fixes' accuracy: parked jitter) over the time between.
 */
function motionOf(ctx: ProcessContext, limitMps: number): Moving {
  const { fix } = ctx
  if (typeof fix.speed === 'number' && Number.isFinite(fix.speed)) return fix.speed < limitMps ? 'still' : 'moving'
  const last = ctx.previous.lastFix
  if (!last || !(fix.ts > last.ts)) return 'unknown'
  const slack = ((fix.accuracy ?? 10) + (last.accuracy ?? 10)) / 4
  return Math.max(0, haversineM([last.lon, last.lat], [fix.lon, fix.lat]) - slack) / ((fix.ts - last.ts) / 1000) < limitMps ? 'still' : 'moving'
}

/** The asset's stay, moved on by this fix: extended, ended (it moved off the spot) or begun (it stopped). */
function updateStay(p: Progress, ctx: ProcessContext, moving: Moving, stillS: number, radiusM: number) {
  const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
  const stay = p.stay
  if (stay && stay.until === null) {
    if (haversineM([stay.lon, stay.lat], here) <= radiusM + (ctx.fix.accuracy ?? 0)) {
      if (moving === 'still') stay.stillS += stillS
      return
    }
    stay.until = ctx.fix.ts
  }
  if (moving === 'still') p.stay = { lon: here[0], lat: here[1], since: ctx.fix.ts, until: null, stillS: 0 }
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
function setStatus(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, to: ShipmentStatus, at: number, stop: PlanStop | null) {
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
function depart(ctx: ProcessContext, plan: ShipmentPlan, p: Progress, stop: PlanStop, t: Transition, settle = true) {
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
