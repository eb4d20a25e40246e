// A shipment's progress through its stops (features.stops), and the asset's motion and last stay.
// Progress lives in the asset state (so it moves in event time, under the asset's compare-and-set);
// the database gets it as effects. Where the asset last stayed is kept across shipments, so a
// shipment that starts where the asset is (or where the previous one just ended) still gets its
// first stop (seed, stops.ts).
import { haversineM } from '../../geo/distance.js'
import { feature, type ShipmentPlan, type ShipmentStatus, type StopStatus } from '../context.js'
import type { ProcessContext } from '../fix-processor.js'
import { emptyMembership, type Membership } from './membership.js'

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
export function reset(p: Progress, shipmentId: string | null = null, status: ShipmentStatus | null = null) {
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
export function reconcile(p: Progress, plan: ShipmentPlan, ts: number): void {
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

export type Moving = 'still' | 'moving' | 'unknown'

/**
 * Stationary: the reported speed below the limit, or without one, the distance from the previous
 * fix (less a quarter of the two fixes' accuracy: parked jitter) over the time between.
 */
export function motionOf(ctx: ProcessContext, limitMps: number): Moving {
  const { fix } = ctx
  if (typeof fix.speed === 'number' && Number.isFinite(fix.speed)) return fix.speed < limitMps ? 'still' : 'moving'
  const last = ctx.previous.lastFix
  if (!last || !(fix.ts > last.ts)) return 'unknown'
  const slack = ((fix.accuracy ?? 10) + (last.accuracy ?? 10)) / 4
  return Math.max(0, haversineM([last.lon, last.lat], [fix.lon, fix.lat]) - slack) / ((fix.ts - last.ts) / 1000) < limitMps ? 'still' : 'moving'
}

/** The asset's stay, moved on by this fix: extended, ended (it moved off the spot) or begun (it stopped). */
export function updateStay(p: Progress, ctx: ProcessContext, moving: Moving, stillS: number, radiusM: number) {
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
