// Checks against the asset's last accepted fix, in the order they run. A fix older than the state
// is "late": it is stored (the write already happened) but never moves state or fires events.
import type { Fix } from '../../contracts/payloads.js'
import { haversineM } from '../../geo/distance.js'
import type { AssetState, LastDrop } from '../state.js'
import { drop, keep, type DropReason, type FilterSettings, type StatefulStage } from './stage.js'

interface Located { lat: number, lon: number, accuracy?: number | null | undefined }

/** Speed (m/s) implied by going from `a` to `b` in `seconds`; the receivers' own error does not count as movement. */
function impliedSpeedMps(a: Located, b: Located, seconds: number): number {
  const metres = haversineM([a.lon, a.lat], [b.lon, b.lat])
  const slack = (b.accuracy ?? 10) + (a.accuracy ?? 10)
  return Math.max(0, metres - slack) / seconds
}

/**
 * Impossible jumps that agree with each other and not with the last accepted fix, for this long
 * and this many fixes (the next one making it three), mean the last accepted fix was the wrong one
 * (a cold start far away, a glitch just before a gap) or the asset really is elsewhere: the fix is
 * then accepted. Without this, one bad fix locks out every good one until distance ÷ time falls
 * under the limit: hours, for a glitch a few thousand kilometres off. A multipath glitch lasts
 * seconds and is still dropped.
 */
const RELOCATE_AFTER_S = 60
const RELOCATE_AFTER_DROPS = 2

export const late: StatefulStage = {
  name: 'late',
  check: (fix, state) => state.lastFix && fix.ts < state.lastFix.ts ? drop('late', `${state.lastFix.ts - fix.ts} ms behind the asset's state`) : keep,
}

/** Same event time as the last fix (a redelivery the database did not already catch), or a seq replay. */
export const duplicate: StatefulStage = {
  name: 'duplicate',
  check: (fix, state) => {
    const last = state.lastFix
    if (!last) return keep
    if (fix.ts === last.ts) return drop('duplicate', 'same event time as the last fix')
    return keep
  },
}

/** A fix implying a speed no truck reaches is a GPS glitch (multipath, a cold start). */
export const impossibleJump: StatefulStage = {
  name: 'impossible_jump',
  check: (fix, state, s) => {
    const last = state.lastFix
    if (!last) return keep
    const seconds = (fix.ts - last.ts) / 1000
    if (seconds <= 0) return keep
    if (impliedSpeedMps(last, fix, seconds) <= s.maxSpeedMps) return keep
    const jump = jumpStreak(state, fix, s)
    if (jump && jump.streak >= RELOCATE_AFTER_DROPS && fix.ts - jump.since >= RELOCATE_AFTER_S * 1000) return keep
    return drop('impossible_jump', `${Math.round(haversineM([last.lon, last.lat], [fix.lon, fix.lat]))} m in ${seconds.toFixed(1)} s`)
  },
}

/** The run of impossible jumps (dropped since the last accepted fix) that `fix` agrees with, if any. */
function jumpStreak(state: AssetState, fix: Fix, s: FilterSettings): LastDrop['jump'] | null {
  const prev = state.lastDrop
  const jump = prev?.reason === 'impossible_jump' ? prev.jump : undefined
  if (!prev || !jump || prev.ts <= (state.lastFix?.ts ?? -Infinity) || fix.ts <= prev.ts) return null
  return impliedSpeedMps(jump, fix, (fix.ts - prev.ts) / 1000) <= s.maxSpeedMps ? jump : null
}

/** What the state keeps of a fix a stateful stage dropped (for an impossible jump, enough to tell a run of them). */
export function lastDropOf(state: AssetState, fix: Fix, reason: DropReason, s: FilterSettings): LastDrop {
  if (reason !== 'impossible_jump') return { reason, ts: fix.ts }
  const run = jumpStreak(state, fix, s)
  return { reason, ts: fix.ts, jump: { lat: fix.lat, lon: fix.lon, accuracy: fix.accuracy ?? null, streak: (run?.streak ?? 0) + 1, since: run?.since ?? fix.ts } }
}

export const statefulStages: readonly StatefulStage[] = [late, duplicate, impossibleJump]
