import { haversineM } from '../../geo/distance.js'

// Checks against the asset's last accepted fix, in the order they run. A fix older than the state
// is "late": it is stored (the write already happened) but never moves state or fires events.
import { drop, keep, type StatefulStage } from './stage.js'

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
    const metres = haversineM([last.lon, last.lat], [fix.lon, fix.lat])
    // the receivers' own error must not count as movement
    const slack = (fix.accuracy ?? 10) + (last.accuracy ?? 10)
    const speed = Math.max(0, metres - slack) / seconds
    return speed > s.maxSpeedMps ? drop('impossible_jump', `${Math.round(metres)} m in ${seconds.toFixed(1)} s`) : keep
  },
}

export const statefulStages: readonly StatefulStage[] = [late, duplicate, impossibleJump]
