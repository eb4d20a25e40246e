// bench:eta — how good ReTrack's ETAs are on simulated multi-stop trips with a known truth
// (bench/lib/trips.ts: ±20% speed, traffic, town driving near stops, dwell ±30–40%, roads 1.15–1.45×
// the great-circle distance). Every trip is replayed fix by fix through the real processing core
// (AssetPipeline, MemoryStateStore, the processors of src/core/processors.ts, default settings),
// once with the road as the shipment's planned route and once without a route. The `eta` feature
// of the asset state is read at the last fix 60, 30 and 10 minutes before each stop's true
// arrival and compared with it; the naive baseline on the same fixes is great-circle distance ÷
// a constant 65 km/h (ETA_DEFAULT_SPEED_KMH), no dwell. Medians over RUNS independent trip sets.
import os from 'node:os'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from '../src/config.js'
import { filterSettings, processingSettings } from '../src/ingest/assemble.js'
import { runBench } from './lib/cleanup.js'
import { diagnose } from './lib/eta-diagnosis.js'
import { printVerdicts, table, verdict, type Cell, type Verdict } from './lib/report.js'
import { median } from './lib/stats.js'
import { simulateTrip, type SimTrip } from './lib/trips.js'
import { HORIZONS_MIN, naiveSamples, replayFleet, summarize, type Sample, type Variant } from './lib/eta-replay.js'

const { values: flags } = parseArgs({ options: { trips: { type: 'string' }, runs: { type: 'string' } } })
const TRIPS = Number(flags.trips ?? 100)
const RUNS = Number(flags.runs ?? 3)
const TARGET_MAE_60_MIN = 5
const TARGET_RATIO = 2
const T0 = Date.UTC(2026, 0, 5, 6)

const config = (overrides: Partial<Config> = {}) => loadConfig({}, overrides)

function tripsFor(seed: number): SimTrip[] {
  // each trip starts on its own day so none overlaps another (they are independent devices anyway)
  return Array.from({ length: TRIPS }, (_, i) => simulateTrip(seed * 100_003 + i, i, { t0: T0 + i * 86_400_000 }))
}

const evaluate = (trips: readonly SimTrip[], variant: Variant, c: Config): Promise<Sample[]> =>
  replayFleet(trips, variant, processingSettings(c), filterSettings(c))

const fmt = (n: number) => n.toFixed(1)

await runBench(async () => {
  const started = Date.now()
  const c = config()
  const naiveKmh = c.ETA_DEFAULT_SPEED_KMH
  console.log(`eta bench: ${RUNS} runs × ${TRIPS} seeded trips, fixes every 30 s; node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}`)
  console.log(`settings: ETA_SPEED_TAU_S ${c.ETA_SPEED_TAU_S}, ETA_DEFAULT_SPEED_KMH ${c.ETA_DEFAULT_SPEED_KMH}, ETA_CIRCUITY ${c.ETA_CIRCUITY}, STOP_DWELL planned per stop; naive = great-circle ÷ ${naiveKmh} km/h, no dwell\n`)

  type Key = 'route' | 'no-route' | 'naive'
  const perRun: Array<Record<Key, ReturnType<typeof summarize>>> = []
  let first: { trips: SimTrip[], route: Sample[], noRoute: Sample[] } | null = null
  for (let run = 1; run <= RUNS; run++) {
    const trips = tripsFor(run)
    const route = await evaluate(trips, 'route', c)
    const noRoute = await evaluate(trips, 'no-route', c)
    const naive = trips.flatMap((t) => naiveSamples(t, naiveKmh / 3.6))
    perRun.push({ 'route': summarize(route), 'no-route': summarize(noRoute), 'naive': summarize(naive) })
    first ??= { trips, route, noRoute }
    const stops = trips.reduce((n, t) => n + t.stops.length, 0)
    console.error(`  run ${run}: ${trips.length} trips, ${stops} stops, ${trips.reduce((n, t) => n + t.fixes.length, 0).toLocaleString('en-US')} fixes; MAE at 60 min: route ${fmt(perRun.at(-1)!.route.get(60)!.mae)}, no route ${fmt(perRun.at(-1)!['no-route'].get(60)!.mae)}, naive ${fmt(perRun.at(-1)!.naive.get(60)!.mae)} min`)
  }

  const med = (key: Key, h: number, what: 'mae' | 'bias' | 'p90' | 'n') => median(perRun.map((r) => r[key].get(h)![what]))
  const names: Record<Key, string> = { 'route': 'ReTrack, planned route', 'no-route': `ReTrack, no route (great-circle × ${c.ETA_CIRCUITY})`, 'naive': `naive (great-circle ÷ ${naiveKmh} km/h)` }
  const rows: Cell[][] = []
  for (const h of HORIZONS_MIN) {
    for (const key of ['route', 'no-route', 'naive'] as const) {
      const ratio = key === 'naive' ? '' : `${(med('naive', h, 'mae') / med(key, h, 'mae')).toFixed(1)}×`
      rows.push([`${h} min`, names[key], String(med(key, h, 'n')), fmt(med(key, h, 'mae')), fmt(med(key, h, 'bias')), fmt(med(key, h, 'p90')), ratio,
        perRun.map((r) => fmt(r[key].get(h)!.mae)).join(' / ')])
    }
  }
  console.log(table(['horizon', 'predictor', 'samples', 'MAE min', 'bias min', 'p90 |err| min', 'naive ÷ this', 'MAE per run'], rows))
  console.log('bias > 0: predicted later than the truck arrived\n')

  await diagnose(first!.trips, first!.route, first!.noRoute, config)

  const verdicts: Verdict[] = []
  for (const key of ['route', 'no-route'] as const) {
    const mae60 = med(key, 60, 'mae')
    verdicts.push(verdict(`${names[key]}: MAE ≤ ${TARGET_MAE_60_MIN} min at 60 min`, mae60 <= TARGET_MAE_60_MIN,
      `${mae60.toFixed(2)} min${mae60 > TARGET_MAE_60_MIN ? ` (${(mae60 - TARGET_MAE_60_MIN).toFixed(2)} min over)` : ''}`))
    // the target binds both numbers to the 60-minute horizon; the other horizons are shown, not judged
    const ratio = (h: number) => med('naive', h, 'mae') / med(key, h, 'mae')
    verdicts.push(verdict(`${names[key]}: ≥ ${TARGET_RATIO}× better than naive at 60 min`, ratio(60) >= TARGET_RATIO,
      `${ratio(60).toFixed(1)}×${ratio(60) < TARGET_RATIO ? ` (needs MAE ≤ ${fmt(med('naive', 60, 'mae') / TARGET_RATIO)} min)` : ''}; at 30 / 10 min ${ratio(30).toFixed(1)}× / ${ratio(10).toFixed(1)}×`))
  }
  const ok = printVerdicts(verdicts)
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s, load ${os.loadavg()[0]!.toFixed(1)}`)
  return ok
})
