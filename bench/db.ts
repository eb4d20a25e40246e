// bench:db — batched writes of positions and tracking events. ReTrack's raw path (one
// `INSERT … SELECT FROM unnest(…)` per batch: insertPositions, insertTrackingEvents) against Prisma
// createMany with the same rows, in the same run, on the same database: a fresh PostgreSQL database
// (created, migrated and dropped here) and an in-memory embedded PGlite. Batches are written one
// after the other on one connection, so the numbers are per-statement efficiency, not parallelism.
// Each (backend, table, batch size, method) is timed RUNS times on an emptied table; medians shown.
// createMany runs at a few thousand rows/s (about 1,000 when the machine is busy), so a pass is a
// few thousand rows, not a bulk load: enough for several statements per pass at 100 and 1000, one
// whole statement at 5000, and the bench still ends within 3 minutes on a loaded machine.
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import os from 'node:os'
import { openDatabase, type Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { insertPositions } from '../src/db/positions.js'
import { insertTrackingEvents, type NewTrackingEvent } from '../src/db/tracking-events.js'
import type { Fix } from '../src/contracts/payloads.js'
import type { Prisma } from '../src/generated/prisma/client.js'
import { onCleanup, runBench } from './lib/cleanup.js'
import { createScratchDatabase, silentLog } from './lib/postgres.js'
import { rng, type Rng } from './lib/prng.js'
import { printVerdicts, table, verdict, type Cell, type Verdict } from './lib/report.js'
import { median } from './lib/stats.js'

/** batch size → rows per timed pass (both methods write exactly these rows) */
const PASS_ROWS = new Map([[100, 2_000], [1_000, 4_000], [5_000, 5_000]])
/** embedded PGlite is optional here: the batch size ingestion uses (INGEST_BATCH_MAX) only */
const PGLITE_BATCHES = [1_000]
const ROWS = Math.max(...PASS_ROWS.values())
const RUNS = 3
const DEVICES = 200
const TENANT = randomUUID()

type Table = 'positions' | 'tracking_events'
type Method = 'raw' | 'prisma'

/** ~1 reading per device per second, with every optional field a tracker usually sends. */
function positions(r: Rng, n: number): Fix[] {
  const t0 = Date.UTC(2026, 0, 5, 8)
  return Array.from({ length: n }, (_, i) => ({
    tenantId: TENANT, deviceId: `dev_bench_${i % DEVICES}`, ts: t0 + Math.floor(i / DEVICES) * 1000, receivedAt: t0,
    lat: r.range(43, 50), lon: r.range(-1, 7), speed: r.range(0, 30), heading: r.range(0, 360), alt: r.range(0, 800),
    accuracy: r.range(3, 20), battery: r.range(20, 100), seq: i, attrs: { temp: Math.round(r.range(2, 8) * 10) / 10 },
  }))
}

/** eta_updated events, the most frequent kind the pipeline emits, with their usual payload. */
function events(r: Rng, n: number): NewTrackingEvent[] {
  const t0 = Date.UTC(2026, 0, 5, 8)
  const shipments = Array.from({ length: 50 }, () => ({ id: randomUUID(), stop: randomUUID(), vehicle: randomUUID() }))
  return Array.from({ length: n }, (_, i) => {
    const s = shipments[i % shipments.length]!
    const ts = t0 + i * 1000
    return {
      tenantId: TENANT, type: 'eta_updated', ts, source: 'rule', shipmentId: s.id, stopId: s.stop, vehicleId: s.vehicle, deviceId: `dev_bench_${i % DEVICES}`,
      payload: { stop: { seq: 2, name: 'Lyon DC' }, eta: new Date(ts + r.range(1, 5) * 3_600_000).toISOString(), etaStatus: 'on_time', previousEta: null },
      dedupeKey: `eta:${s.stop}:${ts}`,
    }
  })
}

// The Prisma side gets the same conflict handling as the raw path (ON CONFLICT DO NOTHING), but no
// per-row result: the raw path also RETURNs which rows were new, so any bias favours Prisma.
const writers: Record<Table, Record<Method, (db: Database, rows: never[]) => Promise<unknown>>> = {
  positions: {
    raw: (db, rows: Fix[]) => insertPositions(db.pool, rows),
    prisma: (db, rows: Fix[]) => db.prisma.position.createMany({
      skipDuplicates: true,
      data: rows.map((f): Prisma.PositionCreateManyInput => ({
        tenantId: f.tenantId, deviceId: f.deviceId, ts: new Date(f.ts), lat: f.lat, lon: f.lon, speed: f.speed ?? null, heading: f.heading ?? null,
        alt: f.alt ?? null, accuracy: f.accuracy ?? null, battery: f.battery ?? null, seq: f.seq ?? null, ...(f.attrs ? { attrs: f.attrs } : {}),
      })),
    }),
  },
  tracking_events: {
    raw: (db, rows: NewTrackingEvent[]) => insertTrackingEvents(db.pool, rows),
    prisma: (db, rows: NewTrackingEvent[]) => db.prisma.trackingEvent.createMany({
      skipDuplicates: true,
      data: rows.map((e): Prisma.TrackingEventCreateManyInput => ({
        tenantId: e.tenantId, type: e.type, ts: new Date(e.ts), source: e.source, shipmentId: e.shipmentId ?? null, stopId: e.stopId ?? null,
        vehicleId: e.vehicleId ?? null, deviceId: e.deviceId ?? null, userId: e.userId ?? null, payload: e.payload as Prisma.InputJsonObject, dedupeKey: e.dedupeKey ?? null,
      })),
    }),
  },
}

/** Rows/s writing `rows` in consecutive batches of `batch` into an emptied table. */
async function pass(db: Database, tableName: Table, method: Method, rows: readonly unknown[], batch: number): Promise<number> {
  await db.pool.query(`TRUNCATE ${tableName}`)
  const write = writers[tableName][method] as (db: Database, rows: unknown[]) => Promise<unknown>
  const started = performance.now()
  for (let i = 0; i < rows.length; i += batch) await write(db, rows.slice(i, i + batch))
  const seconds = (performance.now() - started) / 1000
  const { rows: [count] } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${tableName}`)
  if (count?.n !== rows.length) throw new Error(`${method} wrote ${count?.n} of ${rows.length} rows into ${tableName}`)
  return rows.length / seconds
}

interface Row { backend: string, table: Table, batch: number, raw: number[], prisma: number[] }

async function benchBackend(backend: string, db: Database, batches: readonly number[]): Promise<Row[]> {
  const data: Record<Table, unknown[]> = { positions: positions(rng(1), ROWS), tracking_events: events(rng(2), ROWS) }
  const out: Row[] = []
  for (const tableName of ['positions', 'tracking_events'] as const) {
    // untimed: JIT, Prisma's query compilation, the server's plan cache and buffers
    for (const method of ['raw', 'prisma'] as const) await pass(db, tableName, method, data[tableName].slice(0, 2_000), 500)
    for (const batch of batches) {
      const rows = data[tableName].slice(0, PASS_ROWS.get(batch) ?? ROWS)
      const row: Row = { backend, table: tableName, batch, raw: [], prisma: [] }
      for (let run = 0; run < RUNS; run++) {
        // alternate which goes first, so slow drift (autovacuum, a neighbour) hits both alike
        const order: Method[] = run % 2 === 0 ? ['raw', 'prisma'] : ['prisma', 'raw']
        for (const method of order) row[method].push(await pass(db, tableName, method, rows, batch))
      }
      out.push(row)
      console.error(`  ${backend} ${tableName} batch ${batch}: raw ${Math.round(median(row.raw))} rows/s, prisma ${Math.round(median(row.prisma))} rows/s`)
    }
    await db.pool.query(`TRUNCATE ${tableName}`)
  }
  return out
}

async function openPostgres(): Promise<Database> {
  const scratch = await createScratchDatabase('retrack_bench_db')
  const db = await openDatabase({ url: scratch.url, dataDir: 'unused', poolMax: 2, log: silentLog })
  onCleanup(() => db.close())
  return db
}

async function openPglite(): Promise<Database> {
  const db = await openDatabase({ dataDir: 'memory://', poolMax: 1, log: silentLog })
  onCleanup(() => db.close())
  await migrate(db.pool, silentLog)
  return db
}

await runBench(async () => {
  const started = Date.now()
  const passes = [...PASS_ROWS].map(([b, n]) => `${n.toLocaleString('en-US')} rows at batch ${b.toLocaleString('en-US')}`).join(', ')
  console.log(`db bench: medians of ${RUNS} passes (${passes}); node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(1)}`)
  console.log('raw = src/db/positions.ts insertPositions / src/db/tracking-events.ts insertTrackingEvents (one INSERT … unnest per batch)')
  console.log('prisma = createMany({ skipDuplicates: true }) through @prisma/adapter-pg, same rows, same connection pool\n')
  const rows: Row[] = []
  rows.push(...await benchBackend('PostgreSQL 15', await openPostgres(), [...PASS_ROWS.keys()]))
  rows.push(...await benchBackend('PGlite (memory)', await openPglite(), PGLITE_BATCHES))
  const cells: Cell[][] = rows.map((r) => {
    const raw = median(r.raw), prisma = median(r.prisma)
    return [r.backend, r.table, r.batch, raw, prisma, `${(raw / prisma).toFixed(1)}×`, r.raw.map((v) => (v / 1000).toFixed(1)).join(' / '), r.prisma.map((v) => (v / 1000).toFixed(2)).join(' / ')]
  })
  console.log(table(['backend', 'table', 'batch', 'raw rows/s', 'createMany rows/s', 'ratio', 'raw runs (k/s)', 'createMany runs (k/s)'], cells))
  console.log()
  const at = (backend: string, t: Table, batch: number) => rows.find((r) => r.backend === backend && r.table === t && r.batch === batch)!
  const pos = at('PostgreSQL 15', 'positions', 1_000)
  const ev = at('PostgreSQL 15', 'tracking_events', 1_000)
  const ratio = (r: Row) => median(r.raw) / median(r.prisma)
  const verdicts: Verdict[] = [
    // src/db/positions.ts:2 claims 5–8× over createMany; checked where ingestion runs (batch 1000, PostgreSQL)
    verdict('raw positions ≥ 5× createMany (claim in src/db/positions.ts, PostgreSQL, batch 1000)', ratio(pos) >= 5, `${ratio(pos).toFixed(1)}×`),
    verdict('raw events ≥ 5× createMany (PostgreSQL, batch 1000)', ratio(ev) >= 5, `${ratio(ev).toFixed(1)}×`),
    // src/db/group-commit.ts:3: one database keeps up with "tens of thousands" of readings/s
    verdict('raw positions ≥ 20,000 rows/s on one connection (PostgreSQL, batch 1000)', median(pos.raw) >= 20_000, `${Math.round(median(pos.raw)).toLocaleString('en-US')} rows/s`),
  ]
  const ok = printVerdicts(verdicts)
  console.log(`\ntotal ${((Date.now() - started) / 1000).toFixed(1)} s, load ${os.loadavg()[0]!.toFixed(1)}`)
  return ok
})
