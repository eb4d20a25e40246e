// Geofence evaluation: GeofenceIndex.query against the naive loop a first version would write (every
// fence, every fix, with @turf/turf), in the same run. Both see the same seeded fixes: the naive loop
// is too slow for all of them, so it gets the first N (sized to ~5 s a pass) and the index is timed on
// exactly those N too ("same fixes", used for the ratio) as well as on the whole list. Prints fixes/s
// for 100, 1k and 10k mixed fences, checks the targets and that both agree on every membership.
import * as turf from '@turf/turf'
import { GeofenceIndex } from '../src/geo/fence-index.js'
import { signedDistanceM } from '../src/geo/shapes.js'
import type { Shape } from '../src/geo/types.js'
import { fixesFor, mixedFences, type GeneratedFence } from './lib/fences.js'
import { rng } from './lib/prng.js'
import { printVerdicts, table, verdict, type Cell } from './lib/report.js'
import { measureRate, timeMs } from './lib/timing.js'

/**
 * Disagreements this close to a boundary are definitions, not bugs: turf's pointToLineDistance treats
 * a corridor segment as a great-circle arc, ReTrack (like RFC 7946 and turf's own point-in-polygon) as
 * a straight lon/lat line; over a 5 km east-west segment at 45° the two are up to ~0.5 m apart.
 */
const BOUNDARY_EPS_M = 1
const SIZES = [100, 1_000, 10_000]
/** fixes for the index's absolute rate (the naive loop gets a prefix of the same list) */
const INDEX_FIXES = 20_000
/** wall time one naive pass should take: three passes per size keep the whole bench well under 3 min */
const NAIVE_PASS_MS = 5_000
/** (fence, nearby point) pairs for the per-shape agreement check */
const SHAPE_PAIRS = 50_000

type Naive = (pt: [number, number]) => boolean

function naiveTest(shape: Shape): Naive {
  switch (shape.kind) {
    case 'circle': return (pt) => turf.distance(pt, [shape.center[0], shape.center[1]], { units: 'meters' }) <= shape.radiusM
    case 'polygon': {
      const feature = turf.polygon(shape.rings.map((ring) => ring.map((p) => [p[0], p[1]])))
      return (pt) => turf.booleanPointInPolygon(pt, feature)
    }
    case 'corridor': {
      const line = turf.lineString(shape.line.map((p) => [p[0], p[1]]))
      return (pt) => turf.pointToLineDistance(pt, line, { units: 'meters' }) <= shape.widthM / 2
    }
  }
}

function naiveQuery(fences: readonly GeneratedFence[], tests: readonly Naive[], pt: [number, number]): string[] {
  const ids: string[] = []
  for (let i = 0; i < tests.length; i++) if (tests[i]!(pt)) ids.push(fences[i]!.id)
  return ids
}

/** Memberships where the two disagree, split into boundary rounding and real mismatches. */
function compare(index: GeofenceIndex, fences: readonly GeneratedFence[], naive: readonly string[][], fixes: readonly [number, number][]) {
  const byId = new Map(fences.map((f) => [f.id, f.shape]))
  let real = 0, boundary = 0, hits = 0
  for (const [i, pt] of fixes.entries()) {
    const a = new Set(index.query(pt).map((h) => h.id)), b = new Set(naive[i])
    hits += a.size
    for (const id of new Set([...a, ...b])) {
      if (a.has(id) === b.has(id)) continue
      if (Math.abs(signedDistanceM(byId.get(id)!, pt)) <= BOUNDARY_EPS_M) boundary++
      else real++
    }
  }
  return { real, boundary, meanHits: hits / fixes.length }
}

function run(size: number) {
  const fences = mixedFences(rng(size), size)
  const fixes = fixesFor(rng(size + 1), fences, INDEX_FIXES)
  let built: GeofenceIndex | undefined
  const buildMs = timeMs(() => { built = new GeofenceIndex(fences) })
  const index = built!
  const tests = fences.map((f) => naiveTest(f.shape))
  // size the naive sample to the machine: a short probe, then about NAIVE_PASS_MS per pass
  const probe = () => timeMs(() => fixes.slice(0, 10).forEach((pt) => naiveQuery(fences, tests, pt)))
  probe() // the first probe runs cold code; the second is representative
  const probeMs = probe()
  const sample = fixes.slice(0, Math.max(30, Math.min(4_000, Math.round((NAIVE_PASS_MS / Math.max(probeMs, 1e-3)) * 10))))
  const naiveIds: string[][] = []
  const naive = measureRate(sample.map((pt, i) => ({ pt, i })), ({ pt, i }) => { naiveIds[i] = naiveQuery(fences, tests, pt) }, { runs: 3, minMs: 0, warmupPasses: 0 })
  const same = measureRate(sample, (pt) => index.query(pt), { runs: 3, minMs: 500 })
  const all = measureRate(fixes, (pt) => index.query(pt), { runs: 5, minMs: 1_000 })
  const margin = measureRate(fixes, (pt) => index.query(pt, 100), { runs: 3, minMs: 500 })
  return { size, sample: sample.length, buildMs, all: all.median, margin: margin.median, same: same.median, naive: naive.median, ...compare(index, fences, naiveIds, sample) }
}

/**
 * The exact tests alone, on many more points than the naive loop can afford: each pair is one fence
 * and a point within 1.5 sizes of it (so many lie near its boundary), compared with turf's answer.
 */
function shapeAgreement() {
  const fences = mixedFences(rng(7), 2_000)
  const r = rng(8)
  let real = 0, boundary = 0
  for (let k = 0; k < SHAPE_PAIRS; k++) {
    const f = r.pick(fences)
    const pt = fixesFor(r, [f], 1, 1)[0]!
    const d = signedDistanceM(f.shape, pt)
    if ((d <= 0) === naiveTest(f.shape)(pt)) continue
    if (Math.abs(d) <= BOUNDARY_EPS_M) boundary++
    else real++
  }
  return { real, boundary }
}

const started = Date.now()
const results = SIZES.map(run)
const shapes = shapeAgreement()
const rows: Cell[][] = results.map((r) => [
  r.size, r.buildMs.toFixed(1), r.all, r.margin, String(r.sample), r.same, r.naive, `${Math.round(r.same / r.naive).toLocaleString('en-US')}×`, r.meanHits.toFixed(2), `${r.real} (+${r.boundary} boundary)`,
])
console.log(`geofence bench: medians of 5 runs (index, ${INDEX_FIXES.toLocaleString('en-US')} fixes) and 3 runs (naive sample); node ${process.version}`)
console.log('naive = every fence through @turf/turf; "same fixes" = the index on exactly the naive sample\n')
console.log(table(['fences', 'build ms', 'index fixes/s', 'margin 100 m', 'sample', 'index (same fixes)', 'naive fixes/s', 'ratio', 'hits/fix', 'mismatches'], rows))
console.log()
const big = results[results.length - 1]!
const ok = printVerdicts([
  verdict('index ≥ 100× naive at 10k fences (same fixes)', big.same / big.naive >= 100, `${Math.round(big.same / big.naive).toLocaleString('en-US')}×`),
  verdict('index ≥ 200k fixes/s at 10k fences', big.all >= 200_000, `${Math.round(big.all).toLocaleString('en-US')} fixes/s`),
  verdict(`exact tests agree with turf beyond ±${BOUNDARY_EPS_M} m`, shapes.real === 0, `${shapes.real} of ${SHAPE_PAIRS.toLocaleString('en-US')} (fence, nearby point) pairs (+${shapes.boundary} boundary)`),
  verdict(`index and naive agree beyond ±${BOUNDARY_EPS_M} m of a boundary`, results.every((r) => r.real === 0), results.map((r) => `${r.real} of ${r.sample} fixes at ${r.size}`).join(', ')),
])
console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s`)
if (!ok) process.exitCode = 1
