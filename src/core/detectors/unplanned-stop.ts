// Unplanned stop: during a trip (in transit, and started: see below), the asset stays within
// `radiusM` of one spot for longer than `afterS`, away from every stop of its shipment. Ends when it
// moves off that spot. A truck waiting in its yard before the trip is not stopping on the way: the
// spot must have been reached after the trip started (its first moving fix, or a stop reached or
// skipped; src/core/features/stops.ts).
import { haversineM } from '../../geo/distance.js'
import { feature } from '../context.js'
import type { FixProcessor } from '../fix-processor.js'
import { progressOf } from '../features/stop-progress.js'
import { anomalyEvent } from './condition.js'

export interface UnplannedStopSettings { afterS: number, radiusM: number }

interface Stationary { anchor: [number, number] | null, since: number | null, active: boolean }

export function unplannedStopDetector(s: UnplannedStopSettings): FixProcessor {
  return {
    name: 'unplanned_stop',
    process(ctx) {
      const st = feature<Stationary>(ctx.next.features, 'unplannedStop', () => ({ anchor: null, since: null, active: false }))
      const here: [number, number] = [ctx.fix.lon, ctx.fix.lat]
      const moved = !st.anchor || haversineM(st.anchor, here) > s.radiusM + (ctx.fix.accuracy ?? 0)
      if (moved) {
        if (st.active) ctx.emit(anomalyEvent(ctx, 'unplanned_stop_ended', ctx.fix.ts, { stoppedS: Math.round((ctx.fix.ts - (st.since ?? ctx.fix.ts)) / 1000) }))
        Object.assign(st, { anchor: here, since: ctx.fix.ts, active: false })
        return
      }
      const plan = ctx.asset.shipment
      const progress = progressOf(ctx.next.features)
      if (st.active || !plan || progress.status !== 'in_transit') return
      if (progress.startedAt === undefined || st.since! < progress.startedAt) return
      const nearStop = plan.stops.some((stop) => haversineM(here, [stop.lon, stop.lat]) <= stop.radiusM + s.radiusM)
      if (!nearStop && ctx.fix.ts - st.since! >= s.afterS * 1000) {
        st.active = true
        ctx.emit(anomalyEvent(ctx, 'unplanned_stop', st.since!, { lat: st.anchor![1], lon: st.anchor![0], afterS: s.afterS }))
      }
    },
  }
}
