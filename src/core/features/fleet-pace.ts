// The fleet pace: the open-road and near-stop speed histograms of a tenant's assets, merged. An asset
// with little driving of its own (a new tracker, a truck back after months) predicts from its
// fleet's paces instead of the configured defaults, which fit no fleet in particular; its own
// paces take over as its confidence in them grows (eta.ts). The ETA processor hands over each leg
// when the asset reaches a stop (a 'pace' effect: the asset's paces, scaled to the moving time of
// that leg); the adapter merges them into the tenant's (src/db/fleet-pace.ts) and the context
// loader brings them back with the asset context.
import { histogramSeconds, mergeSpeeds, type SpeedHistogram } from '../../geo/eta.js'
import type { ShipmentPlan } from '../context.js'
import type { ProcessContext } from '../fix-processor.js'
import type { Pace } from './eta-state.js'
import type { Progress } from './stop-progress.js'

export interface FleetPace { open?: SpeedHistogram, near?: SpeedHistogram }

/**
 * Memory of the fleet pace, in moving time: ten hours of driving, a handful of trips. Long enough
 * that one odd trip moves it little, short enough to follow a season or a change of routes.
 */
export const FLEET_MEMORY_S = 36_000

/** What an asset has driven since it last handed its paces over, on the shipment it carries. */
export interface PaceHandover { shipmentId: string, reached: number, openS: number, nearS: number }

/** Merges an asset's contribution into its fleet's pace (a new one when there was none). */
export function mergeFleetPace(into: FleetPace | null | undefined, from: FleetPace): FleetPace {
  const out: FleetPace = { ...into }
  if (from.open?.length) out.open = mergeSpeeds(into?.open ? structuredClone(into.open) : undefined, from.open, FLEET_MEMORY_S)
  if (from.near?.length) out.near = mergeSpeeds(into?.near ? structuredClone(into.near) : undefined, from.near, FLEET_MEMORY_S)
  return out
}

/**
 * The part of `hist` that stands for `movedS` seconds of driving: the whole histogram remembers
 * earlier legs too (ETA_SPEED_TAU_S of moving time), which their own handovers already gave.
 */
function portion(hist: SpeedHistogram | undefined, movedS: number): SpeedHistogram | undefined {
  const total = histogramSeconds(hist)
  if (!hist || !(total > 0) || !(movedS > 0)) return undefined
  return mergeSpeeds(undefined, hist, FLEET_MEMORY_S, Math.min(1, movedS / total))
}

/** Stops of the shipment reached so far (arrived or departed). */
function reachedOf(plan: ShipmentPlan, progress: Progress): number {
  let n = 0
  for (const stop of plan.stops) {
    const status = progress.stops[stop.id]?.status
    if (status === 'arrived' || status === 'departed') n++
  }
  return n
}

/**
 * Counts the moving time of this fix (`openS`/`nearS`, as the ETA processor fed it to its paces)
 * and, once the asset has reached one more stop of its shipment, hands the leg over (an effect).
 * A handover starts afresh with each shipment: what was driven without one is nobody's leg.
 */
export function handOver(ctx: ProcessContext, plan: ShipmentPlan, progress: Progress, pending: PaceHandover | undefined,
  paces: { open: Pace, near: Pace }, moved: { openS: number, nearS: number }): PaceHandover {
  const reached = reachedOf(plan, progress)
  if (pending?.shipmentId !== plan.id) return { shipmentId: plan.id, reached, openS: moved.openS, nearS: moved.nearS }
  const next = { ...pending, openS: pending.openS + moved.openS, nearS: pending.nearS + moved.nearS }
  if (reached <= pending.reached) return next
  const open = portion(paces.open.hist, next.openS)
  const near = portion(paces.near.hist, next.nearS)
  if (open || near) ctx.effect({ kind: 'pace', tenantId: plan.tenantId, ...(open ? { open } : {}), ...(near ? { near } : {}) })
  return { shipmentId: plan.id, reached, openS: 0, nearS: 0 }
}
