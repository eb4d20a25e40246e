// The hot reads use their indexes on a table with a realistic amount of history (PostgreSQL only:
// plans are what production gets). Each query is the one the code really sends: captured on its
// way to the pool, then run again under EXPLAIN ANALYZE.
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../../src/db/database.js'
import { DbAssetContextLoader } from '../../../src/db/asset-context.js'
import { DeviceDirectory } from '../../../src/db/device-directory.js'
import { listEvents, listPositions } from '../../../src/db/read-models.js'
import { databaseBackends, silentLog } from '../../helpers/databases.js'

interface PlanNode { 'Node Type': string, 'Actual Rows': number, 'Actual Loops': number, 'Rows Removed by Filter'?: number, 'Rows Removed by Index Recheck'?: number, Plans?: PlanNode[] }
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)]

const postgres = databaseBackends().find((b) => b.name === 'postgres')!

describe.runIf(postgres.available)('query plans of the hot reads on PostgreSQL', () => {
  let db: Database
  let tenantId: string
  const seen: Array<{ text: string, values: unknown[] }> = []
  // a pass-through pool that remembers what it was asked (the database still answers)
  let recording: pg.Pool

  /** EXPLAIN ANALYZE of the last statement the code sent that mentions `table` */
  async function plan(table: string): Promise<PlanNode[]> {
    const q = seen.filter((s) => s.text.includes(`FROM ${table}`)).at(-1)
    expect(q, `a query on ${table}`).toBeDefined()
    const { rows } = await db.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${q!.text}`, q!.values)
    return nodes(rows[0]!['QUERY PLAN'][0]!.Plan)
  }
  const discarded = (ns: PlanNode[]) => ns.reduce((sum, n) => sum + ((n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) * n['Actual Loops'], 0)

  beforeAll(async () => {
    db = await postgres.open()
    recording = { query: (text: string, values: unknown[]) => { seen.push({ text, values }); return db.pool.query(text, values) } } as unknown as pg.Pool
    tenantId = (await db.prisma.tenant.create({ data: { slug: 'plans', name: 'Plans' } })).id
    await db.pool.query(`INSERT INTO vehicles (tenant_id, name) SELECT $1, 'v' || i FROM generate_series(1, 100) i`, [tenantId])
    await db.pool.query(`
      INSERT INTO devices (id, tenant_id, name, secret_hash, vehicle_id)
      SELECT 'plan-d' || i, $1, 'd', 'h', (SELECT id FROM vehicles WHERE tenant_id = $1 AND name = 'v' || i) FROM generate_series(1, 100) i`, [tenantId])
    // two years of history: 5000 delivered shipments, 100 under way (one per device)
    await db.pool.query(`
      INSERT INTO shipments (tenant_id, reference, status, device_id, vehicle_id, created_at)
      SELECT $1, 'R' || i, (CASE WHEN i <= 100 THEN 'in_transit' ELSE 'delivered' END)::"ShipmentStatus", 'plan-d' || (i % 100 + 1),
             (SELECT id FROM vehicles WHERE tenant_id = $1 AND name = 'v' || (i % 100 + 1)), now() - (i || ' hours')::interval
      FROM generate_series(1, 5100) i`, [tenantId])
    // each open shipment has a stop still to reach (one with none left is not carried)
    await db.pool.query(`
      INSERT INTO stops (tenant_id, shipment_id, seq, type, name, lat, lon, radius_m)
      SELECT tenant_id, id, 0, 'delivery', 'D', 48.5, 2.5, 250 FROM shipments WHERE tenant_id = $1 AND status = 'in_transit'`, [tenantId])
    await db.pool.query(`
      INSERT INTO tracking_events (tenant_id, type, ts, source, device_id, payload, dedupe_key)
      SELECT $1, (ARRAY['speeding', 'stop_arrived', 'geofence_enter', 'shipment_status'])[i % 4 + 1], now() - (i || ' minutes')::interval,
             'rule', 'plan-d' || (i % 100 + 1), '{}', 'e' || i
      FROM generate_series(1, 30000) i`, [tenantId])
    await db.pool.query(`
      INSERT INTO positions (tenant_id, device_id, ts, lat, lon)
      SELECT $1, 'plan-d' || d, now() - (k * 10 || ' seconds')::interval, 48, 2 FROM generate_series(1, 100) d, generate_series(1, 300) k`, [tenantId])
    await db.pool.query('ANALYZE')
  })
  afterAll(async () => { await db?.close() })

  it('loading the shipment a device carries reads the open shipments, not the whole history', async () => {
    const loader = new DbAssetContextLoader(recording, new DeviceDirectory(db.pool), silentLog)
    const context = await loader.load({ tenantId, deviceId: 'plan-d7' })
    expect(context.shipment?.status).toBe('in_transit')
    const ns = await plan('shipments')
    // 100 open shipments at most; before, every one of the 5100 went through the filter
    expect(discarded(ns)).toBeLessThan(200)
  })

  it('the tenant\'s event feed, newest first and paged by cursor, walks an index instead of sorting all events', async () => {
    const first = await listEvents(recording, tenantId, { order: 'desc', limit: 50 })
    expect(first.items).toHaveLength(50)
    for (const ns of [await plan('tracking_events'),
      (await listEvents(recording, tenantId, { order: 'desc', limit: 50, after: { ts: Date.parse(first.items[49]!.ts), id: first.items[49]!.id } }), await plan('tracking_events'))]) {
      expect(ns.map((n) => n['Node Type'])).not.toContain('Sort')
      expect(ns.reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0)).toBeLessThan(500)
    }
  })

  it('a device\'s position history walks the (device_id, ts) key', async () => {
    const page = await listPositions(recording, tenantId, 'plan-d3', { limit: 100, order: 'desc', includeFiltered: false })
    expect(page.items).toHaveLength(100)
    const ns = await plan('positions')
    expect(ns.map((n) => n['Node Type'])).not.toContain('Seq Scan')
    expect(ns.reduce((sum, n) => sum + n['Actual Rows'] * n['Actual Loops'], 0)).toBeLessThan(1000)
  })
})
