// Device offline / online. Offline is decided by a wall-clock sweep (OfflineSweep: no data for
// `afterS`, whichever node notices first, under the asset's compare-and-set so only one reports
// it); the first fix after that reports the device online again.
import { feature } from '../context.js'
import type { FixProcessor } from '../fix-processor.js'
import { anomalyEvent } from './condition.js'

export interface Offline { active: boolean, since: number | null }
export const offlineOf = (features: Record<string, unknown>) => feature<Offline>(features, 'offline', () => ({ active: false, since: null }))

export function deviceOnlineDetector(): FixProcessor {
  return {
    name: 'device_online',
    process(ctx) {
      const offline = offlineOf(ctx.next.features)
      if (!offline.active) return
      // a buffered fix may predate the offline report; the device came back after it, not before
      const at = Math.max(ctx.fix.ts, offline.since ?? ctx.fix.ts)
      ctx.emit(anomalyEvent(ctx, 'device_online', at, { offlineSince: offline.since ? new Date(offline.since).toISOString() : null, firstFixAt: new Date(ctx.fix.ts).toISOString() }))
      offline.active = false
      offline.since = null
    },
  }
}
