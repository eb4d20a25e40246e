// What ReTrack's ETA error is made of, on the first run's trips: the error by situation (driving
// to the next stop, dwelling before it, a later stop), how far the speed the ETA used was from the
// speed the truck really averaged over the rest of the leg, the same trips in counterfactual worlds
// (without pace variability, traffic, town driving or dwell overruns), and the ETA settings varied
// one at a time. src/core is not changed: settings go through loadConfig like any deployment's.
import type { Config } from '../../src/config.js'
import { filterSettings, processingSettings } from '../../src/ingest/assemble.js'
import { HORIZONS_MIN, naiveSamples, planOf, replayFleet, summarize, type Sample, type Variant } from './eta-replay.js'
import { median } from './stats.js'
import { table, type Cell } from './report.js'
import { REAL_WORLD, STOP_RADIUS_M, simulateTrip, type SimTrip, type World } from './trips.js'

/** trips of the first run used for the counterfactuals and settings (each costs a full replay) */
const DIAG_TRIPS = 40

type ConfigFor = (overrides?: Partial<Config>) => Config

const cell = (samples: readonly Sample[], h: number, filter?: (s: Sample) => boolean) => {
  const a = summarize(samples, filter).get(h)!
  return a.n === 0 ? '–' : `${a.mae.toFixed(1)} (${a.bias >= 0 ? '+' : ''}${a.bias.toFixed(1)})`
}

const evaluate = (trips: readonly SimTrip[], variant: Variant, c: Config): Promise<Sample[]> =>
  replayFleet(trips, variant, processingSettings(c), filterSettings(c))

function bySituation(trips: readonly SimTrip[], route: Sample[], noRoute: Sample[], naiveKmh: number) {
  const naive = trips.flatMap((t) => naiveSamples(t, naiveKmh / 3.6))
  const classes: Array<[string, (s: Sample) => boolean]> = [
    ['next stop, truck driving', (s) => s.stopsBefore === 0 && !s.dwelling],
    ['next stop, truck still at the previous one', (s) => s.stopsBefore === 0 && s.dwelling],
    ['a later stop (≥ 1 stop and dwell before it)', (s) => s.stopsBefore > 0],
  ]
  const rows: Cell[][] = []
  for (const [name, f] of classes) {
    for (const [label, samples] of [['route', route], ['no route', noRoute], ['naive', naive]] as const) {
      rows.push([name, label, ...HORIZONS_MIN.map((h) => `${summarize(samples, f).get(h)!.n}: ${cell(samples, h, f)}`)])
    }
  }
  console.log('MAE (bias) in minutes by situation, run 1; "n: " = samples')
  console.log(table(['situation', 'predictor', ...HORIZONS_MIN.map((h) => `${h} min`)], rows))
}

/** The speed the ETA divided by, against the truck's real average over the rest of the leg. */
function speedAccuracy(trips: readonly SimTrip[], route: Sample[]) {
  const plans = new Map(trips.map((t) => [t.id, planOf(t, true)]))
  const byId = new Map(trips.map((t) => [t.id, t]))
  const row = (label: string, h: number, dwelling: boolean): Cell[] => {
    const errors: number[] = []
    for (const s of route) {
      if (s.horizonMin !== h || s.stopsBefore > 0 || s.dwelling !== dwelling || s.alongM === null || s.usedMps === null) continue
      const remainingM = plans.get(s.trip)!.stopAlongM![s.stop]! - STOP_RADIUS_M - s.alongM
      // dwelling: the drive starts when the truck leaves the previous stop
      const driveS = (s.truth - (dwelling ? byId.get(s.trip)!.departures[s.stop - 1]! : s.at)) / 1000
      if (remainingM > 0 && driveS > 0) errors.push(s.usedMps / (remainingM / driveS) - 1)
    }
    const mean = errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length)
    return [label, `${h} min`, String(errors.length), `${(100 * median(errors.map(Math.abs))).toFixed(1)}%`, `${mean >= 0 ? '+' : ''}${(100 * mean).toFixed(1)}%`]
  }
  const rows = [...HORIZONS_MIN.map((h) => row('driving to the next stop', h, false)), row('still at the previous stop', 60, true)]
  console.log('\nspeed the ETA used (the typical open-road pace, blended with the fleet\'s or the default; before the current pace is blended in) ÷ the truck\'s real average over the rest of the leg − 1 (planned route); < 0: ETA too late')
  console.log(table(['truck', 'horizon', 'samples', 'median |error|', 'mean error'], rows))
}

async function counterfactuals(trips: readonly SimTrip[], route: Sample[], configFor: ConfigFor) {
  const c = configFor()
  const ids = new Set(trips.map((t) => t.id))
  const worlds: Array<[string, World]> = [
    ['without the ±20% pace', { ...REAL_WORLD, variability: false }],
    ['without traffic', { ...REAL_WORLD, traffic: false }],
    ['without town driving near stops', { ...REAL_WORLD, town: false }],
    ['dwell exactly as planned', { ...REAL_WORLD, dwellVariance: false }],
    ['none of these (steady cruise)', { variability: false, traffic: false, town: false, dwellVariance: false }],
  ]
  const naiveMps = c.ETA_DEFAULT_SPEED_KMH / 3.6
  const rows: Cell[][] = [['as simulated', ...HORIZONS_MIN.map((h) => cell(route.filter((s) => ids.has(s.trip)), h)), cell(trips.flatMap((t) => naiveSamples(t, naiveMps)), 60)]]
  for (const [name, world] of worlds) {
    const alt = trips.map((t) => simulateTrip(t.seed, t.index, { t0: t.t0, world }))
    const samples = await evaluate(alt, 'route', c)
    rows.push([name, ...HORIZONS_MIN.map((h) => cell(samples, h)), cell(alt.flatMap((t) => naiveSamples(t, naiveMps)), 60)])
  }
  console.log(`\nthe same ${trips.length} trips (same places, roads and plans) in other worlds: MAE (bias), ReTrack with the planned route`)
  console.log(table(['world', ...HORIZONS_MIN.map((h) => `${h} min`), 'naive 60 min'], rows))
}

async function settings(trips: readonly SimTrip[], route: Sample[], noRoute: Sample[], configFor: ConfigFor) {
  const base = configFor()
  const ids = new Set(trips.map((t) => t.id))
  const mine = (xs: Sample[]) => xs.filter((s) => ids.has(s.trip))
  const variants: Array<[string, Variant, Partial<Config>]> = [
    ...[300, 1_800, 3_600, 14_400, 86_400].map((tau): [string, Variant, Partial<Config>] => [`ETA_SPEED_TAU_S ${tau}`, 'route', { ETA_SPEED_TAU_S: tau }]),
    ['ETA_DEFAULT_SPEED_KMH 75', 'route', { ETA_DEFAULT_SPEED_KMH: 75 }],
    ...[30, 50].map((kmh): [string, Variant, Partial<Config>] => [`ETA_NEAR_STOP_SPEED_KMH ${kmh}`, 'route', { ETA_NEAR_STOP_SPEED_KMH: kmh }]),
    ...[0, 5_000].map((m): [string, Variant, Partial<Config>] => [`ETA_NEAR_STOP_M ${m}`, 'route', { ETA_NEAR_STOP_M: m }]),
    ...[1.2, 1.4].map((k): [string, Variant, Partial<Config>] => [`ETA_CIRCUITY ${k}`, 'no-route', { ETA_CIRCUITY: k }]),
  ]
  const rows: Cell[][] = [
    [`defaults (tau ${base.ETA_SPEED_TAU_S}, ${base.ETA_DEFAULT_SPEED_KMH}/${base.ETA_NEAR_STOP_SPEED_KMH} km/h)`, 'route', ...HORIZONS_MIN.map((h) => cell(mine(route), h))],
    [`defaults (circuity ${base.ETA_CIRCUITY})`, 'no route', ...HORIZONS_MIN.map((h) => cell(mine(noRoute), h))],
  ]
  for (const [name, variant, overrides] of variants) {
    const samples = await evaluate(trips, variant, configFor(overrides))
    rows.push([name, variant === 'route' ? 'route' : 'no route', ...HORIZONS_MIN.map((h) => cell(samples, h))])
  }
  console.log(`\nETA settings one at a time on the same ${trips.length} trips: MAE (bias)`)
  console.log(table(['setting', 'variant', ...HORIZONS_MIN.map((h) => `${h} min`)], rows))
}

export async function diagnose(trips: readonly SimTrip[], route: Sample[], noRoute: Sample[], configFor: ConfigFor): Promise<void> {
  const c = configFor()
  bySituation(trips, route, noRoute, c.ETA_DEFAULT_SPEED_KMH)
  speedAccuracy(trips, route)
  const few = trips.slice(0, DIAG_TRIPS)
  await counterfactuals(few, route, configFor)
  await settings(few, route, noRoute, configFor)
  console.log()
}
