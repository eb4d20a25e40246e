// GPS jump: a fix the impossible-jump stage dropped raises gps_jump (once per episode); the next
// accepted fix, consistent again, clears it.
import { feature } from '../context.js'
import type { FixProcessor } from '../fix-processor.js'
import { anomalyEvent } from './condition.js'

interface Jump { active: boolean }

export function gpsJumpDetector(): FixProcessor {
  return {
    name: 'gps_jump',
    dropped(ctx) {
      if (ctx.reason !== 'impossible_jump') return
      const jump = feature<Jump>(ctx.next.features, 'gpsJump', () => ({ active: false }))
      if (jump.active) return
      jump.active = true
      const last = ctx.next.lastFix
      ctx.emit(anomalyEvent(ctx, 'gps_jump', ctx.fix.ts, { lat: ctx.fix.lat, lon: ctx.fix.lon, from: last ? { lat: last.lat, lon: last.lon, ts: new Date(last.ts).toISOString() } : null }))
    },
    process(ctx) {
      const jump = feature<Jump>(ctx.next.features, 'gpsJump', () => ({ active: false }))
      if (!jump.active) return
      jump.active = false
      ctx.emit(anomalyEvent(ctx, 'gps_jump_cleared', ctx.fix.ts, {}))
    },
  }
}
