// While the asset is silent the offline sweep revises the ETAs once the clock passes them
// (reviseSilent): no fix comes to do it.
import { etaStatus, type EtaStatus } from '../../geo/eta.js'
import type { AssetContext, PlanStop } from '../context.js'
import type { CoreEffect } from '../effects.js'
import type { CoreEvent } from '../fix-processor.js'
import { report, type Reporter } from './eta-report.js'
import type { EtaFeature, EtaSettings, StopEta } from './eta-state.js'
import type { Progress } from './stop-progress.js'

/**
 * The offline sweep's revision of a silent asset's ETAs at wall-clock `now` (no fix: nothing else
 * would change them). While the wall clock is before the next stop's ETA the prediction stands (the
 * asset may be driving on, unheard). Once it has passed it without an arrival being heard, the asset
 * is **overdue**: every pending stop's ETA becomes unknown (null), and its status is judged on the
 * earliest it can arrive — not before now at the next stop, and as long after that as predicted at
 * the later ones — at least at_risk at the overdue stop (a predicted arrival has passed unseen), late
 * (with delay_predicted) once that earliest arrival is past the window end. A passed stop becomes
 * late when its window ends. The next fix recomputes everything.
 *
 * Returns whether anything changed and when the next revision could change something (null:
 * never, until a fix comes): the sweep calls again then, so a silent asset costs a handful of
 * revisions, not one per pass.
 */
export function reviseSilent(
  features: Record<string, unknown>, asset: AssetContext, deviceId: string, now: number, s: Pick<EtaSettings, 'atRiskS' | 'thresholdS'>,
  emit: (event: CoreEvent) => void, effect: (effect: CoreEffect) => void,
): { changed: boolean, dueAt: number | null } {
  const plan = asset.shipment
  const state = features['eta'] as EtaFeature | undefined
  const progress = features['stops'] as Progress | undefined
  if (!plan || !state || progress?.shipmentId !== plan.id || progress.status === 'delivered' || progress.status === 'cancelled') return { changed: false, dueAt: null }
  const r: Reporter = { plan, deviceId, vehicleId: asset.vehicleId, ts: now, emit, effect }
  const pending = plan.stops.filter((stop) => (progress.stops[stop.id]?.status ?? 'pending') === 'pending' && state.stops[stop.id])
  const chain = pending.filter((stop) => !state.stops[stop.id]!.passed && state.stops[stop.id]!.eta !== null)
  let changed = false
  let dueAt = Infinity
  const at = (t: number) => { if (t > now) dueAt = Math.min(dueAt, t) }
  const settle = (current: StopEta, stop: PlanStop, status: EtaStatus) => {
    const was = current.status
    changed = report(r, current, stop, null, status, s) || was !== status || changed
  }
  for (const stop of pending) {
    const current = state.stops[stop.id]!
    const deadline = stop.windowEnd ?? stop.windowStart
    if (!current.passed || deadline === null) continue
    if (now > deadline) { if (current.status !== 'late') settle(current, stop, 'late') } else at(deadline + 1)
  }
  const first = chain[0]
  if (!first) return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
  const firstEta = state.stops[first.id]!.eta!
  if (now < firstEta) {
    at(firstEta)
    return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
  }
  for (const stop of chain) {
    const current = state.stops[stop.id]!
    const deadline = stop.windowEnd ?? stop.windowStart
    // the earliest it can arrive: the whole chain slips by as much as the asset is overdue
    const afterFirstMs = current.eta! - firstEta
    const earliest = now + afterFirstMs
    let status = etaStatus(earliest, stop.windowStart ?? undefined, stop.windowEnd ?? undefined, s.atRiskS, current.status)
    if (stop === first && status === 'on_time') status = 'at_risk'
    changed ||= !current.silent
    current.silent = true
    settle(current, stop, status)
    if (deadline !== null) {
      // when the earliest arrival crosses the at-risk boundary and the window end
      if (RANK[status] < RANK.at_risk) at(deadline - s.atRiskS * 1000 - afterFirstMs + 1)
      if (RANK[status] < RANK.late) at(deadline - afterFirstMs + 1)
    }
  }
  return { changed, dueAt: Number.isFinite(dueAt) ? dueAt : null }
}

const RANK: Record<EtaStatus, number> = { unknown: 0, on_time: 1, at_risk: 2, late: 3 }
