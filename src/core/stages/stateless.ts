// Checks a fix needs nothing but itself for, in the order they run. Modeled on Traccar's FilterHandler.
import { drop, keep, type FilterSettings, type StageResult, type StatelessStage } from './stage.js'

const finite = (n: number) => typeof n === 'number' && Number.isFinite(n)

export const invalidCoordinates: StatelessStage = {
  name: 'invalid',
  check: (fix) => finite(fix.lat) && finite(fix.lon) && Math.abs(fix.lat) <= 90 && Math.abs(fix.lon) <= 180 && finite(fix.ts)
    ? keep : drop('invalid', `lat ${fix.lat}, lon ${fix.lon} is not a WGS84 position`),
}

/** 0,0 is what many receivers report before their first fix. */
export const nullIsland: StatelessStage = {
  name: 'null_island',
  check: (fix) => Math.abs(fix.lat) < 1e-6 && Math.abs(fix.lon) < 1e-6 ? drop('null_island') : keep,
}

type TimeCheck = (ts: number, now: number, s: FilterSettings) => StageResult

const futureTime: TimeCheck = (ts, now, s) => ts - now > s.maxFutureMs ? drop('future', `${Math.round((ts - now) / 1000)} s ahead of the server clock`) : keep
const tooOldTime: TimeCheck = (ts, now, s) => now - ts > s.maxAgeMs ? drop('too_old', `${Math.round((now - ts) / 3600000)} h old`) : keep

export const future: StatelessStage = { name: 'future', check: (fix, now, s) => futureTime(fix.ts, now, s) }
export const tooOld: StatelessStage = { name: 'too_old', check: (fix, now, s) => tooOldTime(fix.ts, now, s) }

/** The checks of a reading that apply to a device event too (an event has no position to judge). */
export const timeChecks: readonly TimeCheck[] = [futureTime, tooOldTime]

export const poorAccuracy: StatelessStage = {
  name: 'poor_accuracy',
  check: (fix, _now, s) => fix.accuracy !== undefined && fix.accuracy > s.maxAccuracyM ? drop('poor_accuracy', `accuracy ${fix.accuracy} m`) : keep,
}

export const statelessStages: readonly StatelessStage[] = [invalidCoordinates, nullIsland, future, tooOld, poorAccuracy]
