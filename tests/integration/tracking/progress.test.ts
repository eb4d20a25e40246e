// The processing core's effects on shipments and stops (src/db/progress.ts) on a real database:
// redelivered and out-of-order effects (a retried batch, a second node handling the asset) must
// never move a status backward nor contradict what is recorded, and a change the API made
// meanwhile (unassigning) must not be undone by a stale effect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../../src/db/database.js'
import { applyEffects } from '../../../src/db/progress.js'
import type { CoreEffect } from '../../../src/core/effects.js'
import { databaseBackends } from '../../helpers/databases.js'

const T0 = Date.parse('2026-11-20T08:00:00.123Z')

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`shipment progress on ${backend.name}`, () => {
    let db: Database
    let tenantId: string
    let n = 0

    beforeAll(async () => {
      db = await backend.open()
      tenantId = (await db.prisma.tenant.create({ data: { slug: 'progress', name: 'P' } })).id
    })
    afterAll(async () => { await db?.close() })

    async function shipment(status: 'planned' | 'assigned' | 'in_transit' = 'assigned') {
      const { rows: [s] } = await db.pool.query<{ id: string }>(
        `INSERT INTO shipments (tenant_id, reference, status) VALUES ($1, $2, $3::"ShipmentStatus") RETURNING id`, [tenantId, `P-${++n}`, status])
      const { rows: stops } = await db.pool.query<{ id: string }>(
        `INSERT INTO stops (tenant_id, shipment_id, seq, type, name, lat, lon, radius_m)
         SELECT $1, $2, k, 'delivery', 'S' || k, 48, 2, 100 FROM generate_series(0, 1) k RETURNING id`, [tenantId, s!.id])
      return { id: s!.id, stops: stops.map((r) => r.id) }
    }
    const statusOf = async (id: string) =>
      (await db.pool.query<{ status: string }>('SELECT status::text AS status FROM shipments WHERE id = $1', [id])).rows[0]!.status
    const stopOf = async (id: string) =>
      (await db.pool.query<{ status: string, arrived_at: Date | null }>('SELECT status::text AS status, arrived_at FROM stops WHERE id = $1', [id])).rows[0]!
    const moved = (shipmentId: string, status: 'in_transit' | 'at_stop' | 'delivered', at: number): CoreEffect =>
      ({ kind: 'shipment', tenantId, shipmentId, status, at })

    it('a redelivered older status effect does not move the shipment back', async () => {
      const s = await shipment()
      await applyEffects(db.pool, [moved(s.id, 'in_transit', T0)])
      await applyEffects(db.pool, [moved(s.id, 'at_stop', T0 + 60_000)])
      await applyEffects(db.pool, [moved(s.id, 'in_transit', T0)]) // the first batch, again
      expect(await statusOf(s.id)).toBe('at_stop')
      // a newer one still applies, and so do several in one batch at the same instant, in order
      await applyEffects(db.pool, [moved(s.id, 'in_transit', T0 + 120_000), moved(s.id, 'at_stop', T0 + 120_000)])
      expect(await statusOf(s.id)).toBe('at_stop')
      await applyEffects(db.pool, [moved(s.id, 'in_transit', T0 + 180_000)])
      expect(await statusOf(s.id)).toBe('in_transit')
    })

    it('the same effect applied twice is applied once', async () => {
      const s = await shipment()
      const e = moved(s.id, 'in_transit', T0)
      await applyEffects(db.pool, [e])
      const first = (await db.pool.query('SELECT status, started_at, status_at FROM shipments WHERE id = $1', [s.id])).rows[0]
      await applyEffects(db.pool, [e])
      expect((await db.pool.query('SELECT status, started_at, status_at FROM shipments WHERE id = $1', [s.id])).rows[0]).toEqual(first)
    })

    it('a stale effect does not put a shipment the API unassigned back under way', async () => {
      const s = await shipment('planned') // unassigned: no device nor vehicle to track it
      await applyEffects(db.pool, [moved(s.id, 'in_transit', T0)])
      expect(await statusOf(s.id)).toBe('planned')
    })

    it('a skip never overrides a recorded arrival', async () => {
      const s = await shipment('in_transit')
      const [stop] = s.stops
      await applyEffects(db.pool, [{ kind: 'stop', tenantId, shipmentId: s.id, stopId: stop!, status: 'arrived', arrivedAt: T0 }])
      await applyEffects(db.pool, [{ kind: 'stop', tenantId, shipmentId: s.id, stopId: stop!, status: 'skipped' }])
      expect(await stopOf(stop!)).toEqual({ status: 'arrived', arrived_at: new Date(T0) })
      // a pending stop is still skipped, and an arrival cannot undo the skip
      await applyEffects(db.pool, [{ kind: 'stop', tenantId, shipmentId: s.id, stopId: s.stops[1]!, status: 'skipped' }])
      await applyEffects(db.pool, [{ kind: 'stop', tenantId, shipmentId: s.id, stopId: s.stops[1]!, status: 'arrived', arrivedAt: T0 }])
      expect((await stopOf(s.stops[1]!)).status).toBe('skipped')
    })

    it('an older ETA never replaces a newer one; the same one again changes nothing', async () => {
      const s = await shipment('in_transit')
      const eta = (at: number, minutes: number): CoreEffect =>
        ({ kind: 'eta', tenantId, shipmentId: s.id, stopId: s.stops[0]!, eta: at + minutes * 60_000, etaStatus: 'on_time', at })
      await applyEffects(db.pool, [eta(T0 + 60_000, 30)])
      await applyEffects(db.pool, [eta(T0, 10)])
      await applyEffects(db.pool, [eta(T0 + 60_000, 30)])
      const { rows: [r] } = await db.pool.query<{ eta: Date, eta_updated_at: Date }>('SELECT eta, eta_updated_at FROM stops WHERE id = $1', [s.stops[0]])
      expect(r).toEqual({ eta: new Date(T0 + 60_000 + 30 * 60_000), eta_updated_at: new Date(T0 + 60_000) })
    })

    it('a stop reached keeps no ETA (a later ETA effect in the same batch included)', async () => {
      const s = await shipment('in_transit')
      const stopId = s.stops[0]!
      await applyEffects(db.pool, [{ kind: 'eta', tenantId, shipmentId: s.id, stopId, eta: T0 + 600_000, etaStatus: 'late', at: T0 }])
      await applyEffects(db.pool, [
        { kind: 'stop', tenantId, shipmentId: s.id, stopId, status: 'arrived', arrivedAt: T0 + 60_000 },
        { kind: 'eta', tenantId, shipmentId: s.id, stopId, eta: T0 + 700_000, etaStatus: 'late', at: T0 + 60_000 },
      ])
      const { rows: [r] } = await db.pool.query<{ status: string, eta: Date | null, eta_status: string }>('SELECT status::text AS status, eta, eta_status::text AS eta_status FROM stops WHERE id = $1', [stopId])
      expect(r).toEqual({ status: 'arrived', eta: null, eta_status: 'unknown' })
    })

    it('effects naming another tenant\'s rows change nothing', async () => {
      const s = await shipment()
      const other = (await db.prisma.tenant.create({ data: { slug: 'progress-other', name: 'O' } })).id
      await applyEffects(db.pool, [
        { kind: 'shipment', tenantId: other, shipmentId: s.id, status: 'in_transit', at: T0 },
        { kind: 'stop', tenantId: other, shipmentId: s.id, stopId: s.stops[0]!, status: 'arrived', arrivedAt: T0 },
        { kind: 'eta', tenantId: other, shipmentId: s.id, stopId: s.stops[1]!, eta: T0, etaStatus: 'late', at: T0 },
      ])
      expect(await statusOf(s.id)).toBe('assigned')
      expect((await stopOf(s.stops[0]!)).status).toBe('pending')
      expect((await db.pool.query('SELECT eta FROM stops WHERE id = $1', [s.stops[1]])).rows[0]).toEqual({ eta: null })
    })
  })
}
