// Creating and reading shipments: stops and their fences in one transaction, defaults, statuses,
// references, the list's filters and its next-stop summary without a query per shipment.
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { ChangeRecorder, seeder, stop, unique } from './fixtures.js'

type Json = Record<string, unknown>
type Stop = Json & { id: string, seq: number, name: string, geofenceId: string }
type Shipment = Json & { id: string, status: string, stops: Stop[] }
type Summary = Json & { id: string, reference: string, stopsCount: number, nextStop: Json | null }

/** Counts the SQL statements `fn` sends, whichever backend (both speak through pg). */
async function countQueries(fn: () => Promise<unknown>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }
  const original = proto.query
  let n = 0
  proto.query = function (this: unknown, ...args: unknown[]) { n++; return original.apply(this, args) }
  try { await fn() } finally { proto.query = original }
  return n
}

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`shipments on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let seed: ReturnType<typeof seeder>
    const changes = new ChangeRecorder()
    const op = () => as(app, acme.tokens.operator)
    const create = async (payload: Json) => {
      const res = await op()({ method: 'POST', url: '/api/v1/shipments', payload })
      expect(res.statusCode, res.body).toBe(201)
      return res.json<Shipment>()
    }
    const list = async (query = '') => {
      const res = await op()({ method: 'GET', url: `/api/v1/shipments?limit=500&${query}` })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<{ items: Summary[], total: number }>()
    }

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db, { changes }))
      acme = await seedTenant(app, db, 'acme')
      seed = seeder(db, acme.id)
    })
    afterAll(async () => { await app?.close(); await db?.close() })
    beforeEach(() => changes.clear())

    it('creates the shipment, its stops in order and one circle fence per stop, and announces them', async () => {
      const shipment = await create({
        reference: 'PO-1001', notes: 'fragile', tempMinC: 2, tempMaxC: 8,
        route: { type: 'LineString', coordinates: [[2.35, 48.85], [4.83, 45.76]] },
        stops: [
          stop('Paris DC', 48.85, 2.35, { type: 'pickup', windowStart: '2030-05-01T06:00:00Z', windowEnd: '2030-05-01T08:00:00+02:00', radiusM: 150, plannedDwellS: 900 }),
          stop('Lyon Hub', 45.76, 4.83, { type: 'waypoint', address: '1 rue X' }),
          stop('Lyon Client', 45.75, 4.85),
        ],
      })
      expect(shipment).toMatchObject({ reference: 'PO-1001', status: 'planned', notes: 'fragile', route: { type: 'LineString' }, cancelledAt: null })
      expect(shipment.stops.map((s) => [s.seq, s.name, s.type, s.status])).toEqual([
        [0, 'Paris DC', 'pickup', 'pending'], [1, 'Lyon Hub', 'waypoint', 'pending'], [2, 'Lyon Client', 'delivery', 'pending'],
      ])
      expect(shipment.stops[0]).toMatchObject({ radiusM: 150, plannedDwellS: 900, windowStart: '2030-05-01T06:00:00.000Z', windowEnd: '2030-05-01T06:00:00.000Z' })
      // defaults from the configuration
      expect(shipment.stops[1]).toMatchObject({ radiusM: 250, plannedDwellS: 1800, windowStart: null, address: '1 rue X', etaStatus: 'unknown' })

      const fences = await db.prisma.geofence.findMany({ where: { stop: { shipmentId: shipment.id } }, include: { stop: true } })
      expect(fences).toHaveLength(3)
      for (const fence of fences) {
        expect(fence).toMatchObject({ kind: 'circle', name: fence.stop!.name, radiusM: fence.stop!.radiusM, geometry: { type: 'Point', coordinates: [fence.stop!.lon, fence.stop!.lat] } })
        expect(shipment.stops.find((s) => s.id === fence.stopId)!.geofenceId).toBe(fence.id)
      }
      expect(changes.of('shipment')).toEqual([shipment.id])
      expect(changes.of('geofence').sort()).toEqual(fences.map((f) => f.id).sort())
    })

    it('starts assigned when a vehicle or a device is given, planned otherwise', async () => {
      const vehicleId = await seed.vehicle()
      const { id: deviceId } = await seed.device()
      const driverId = await seed.driver()
      const carrierId = await seed.carrier()
      expect((await create({ reference: unique('r'), vehicleId, stops: [stop('A', 1, 1)] })).status).toBe('assigned')
      expect((await create({ reference: unique('r'), deviceId, stops: [stop('A', 1, 1)] })).status).toBe('assigned')
      expect((await create({ reference: unique('r'), driverId, carrierId, stops: [stop('A', 1, 1)] })).status).toBe('planned')
    })

    it('refuses unknown references with 404 and a taken reference with 409, creating nothing', async () => {
      const before = await db.prisma.shipment.count()
      const missing = await op()({ method: 'POST', url: '/api/v1/shipments', payload: { reference: 'NEW-1', vehicleId: '00000000-0000-4000-8000-000000000000', stops: [stop('A', 1, 1)] } })
      expect(missing.statusCode).toBe(404)
      expect(missing.json()).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('vehicle') })
      const taken = await op()({ method: 'POST', url: '/api/v1/shipments', payload: { reference: 'PO-1001', stops: [stop('A', 1, 1)] } })
      expect(taken.statusCode).toBe(409)
      expect(taken.json()).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('PO-1001') })
      expect(await db.prisma.shipment.count()).toBe(before)
      expect(changes.changes).toEqual([])
    })

    it('writes shipment, stops and fences in one transaction: a failing fence leaves nothing behind', async () => {
      await db.pool.query(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.name = 'boom' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$`)
      await db.pool.query('CREATE TRIGGER refuse_boom BEFORE INSERT ON geofences FOR EACH ROW EXECUTE FUNCTION refuse_boom()')
      try {
        const res = await op()({ method: 'POST', url: '/api/v1/shipments', payload: { reference: 'ATOMIC-1', stops: [stop('fine', 1, 1), stop('boom', 2, 2)] } })
        expect(res.statusCode).toBe(500)
        expect(res.body).not.toContain('refused by test')
        expect(await db.prisma.shipment.count({ where: { reference: 'ATOMIC-1' } })).toBe(0)
        expect(await db.prisma.stop.count({ where: { name: { in: ['fine', 'boom'] } } })).toBe(0)
        expect(changes.changes).toEqual([])
      } finally {
        await db.pool.query('DROP TRIGGER refuse_boom ON geofences; DROP FUNCTION refuse_boom()')
      }
    })

    it('gets a shipment with every stop column, in seq order; an unknown id is a 404', async () => {
      const { id } = (await list('q=PO-1001')).items[0]!
      const res = await as(app, acme.tokens.viewer)({ method: 'GET', url: `/api/v1/shipments/${id}` })
      expect(res.statusCode).toBe(200)
      const shipment = res.json<Shipment>()
      expect(shipment.stops.map((s) => s.seq)).toEqual([0, 1, 2])
      expect(Object.keys(shipment.stops[0]!).sort()).toEqual([
        'address', 'arrivedAt', 'departedAt', 'eta', 'etaStatus', 'etaUpdatedAt', 'geofenceId', 'id', 'lat', 'lon', 'name', 'plannedDwellS',
        'radiusM', 'seq', 'shipmentId', 'status', 'type', 'windowEnd', 'windowStart',
      ])
      expect(shipment).not.toHaveProperty('tenantId')
      expect((await op()({ method: 'GET', url: '/api/v1/shipments/00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404)
    })

    describe('list', () => {
      const ids = {} as Record<'carrier' | 'vehicle' | 'driver' | 'device', string>
      const made = {} as Record<'full' | 'moving' | 'done', string>

      beforeAll(async () => {
        ids.carrier = await seed.carrier()
        ids.vehicle = await seed.vehicle()
        ids.driver = await seed.driver()
        ids.device = (await seed.device()).id
        made.full = (await create({ reference: 'LIST-FULL', ...{ carrierId: ids.carrier, vehicleId: ids.vehicle, driverId: ids.driver, deviceId: ids.device }, stops: [stop('L1', 1, 1), stop('L2', 2, 2)] })).id
        const moving = await create({ reference: 'LIST-MOVING', stops: [stop('M1', 1, 1), stop('M2', 2, 2), stop('M3', 3, 3)] })
        made.moving = moving.id
        // as the processing core would: first stop done, ETA on the second
        await db.prisma.shipment.update({ where: { id: moving.id }, data: { status: 'in_transit' } })
        await db.prisma.stop.update({ where: { id: moving.stops[0]!.id }, data: { status: 'departed' } })
        await db.prisma.stop.update({ where: { id: moving.stops[1]!.id }, data: { eta: new Date('2030-01-01T12:00:00Z'), etaStatus: 'at_risk' } })
        const done = await create({ reference: 'LIST-DONE', stops: [stop('D1', 1, 1)] })
        made.done = done.id
        await db.prisma.shipment.update({ where: { id: done.id }, data: { status: 'delivered' } })
        await db.prisma.stop.update({ where: { id: done.stops[0]!.id }, data: { status: 'departed' } })
      })

      it('summarises each item with its stop count and next pending stop, without the route', async () => {
        const { items } = await list('q=list-')
        const byRef = Object.fromEntries(items.map((i) => [i.reference, i]))
        expect(byRef['LIST-FULL']).toMatchObject({ stopsCount: 2, nextStop: { seq: 0, name: 'L1', eta: null, etaStatus: 'unknown' } })
        expect(byRef['LIST-MOVING']).toMatchObject({ stopsCount: 3, nextStop: { seq: 1, name: 'M2', eta: '2030-01-01T12:00:00.000Z', etaStatus: 'at_risk' } })
        expect(byRef['LIST-DONE']).toMatchObject({ stopsCount: 1, nextStop: null })
        expect(items[0]).not.toHaveProperty('route')
      })

      it('filters by one or several statuses, reference, each assignment and creation time', async () => {
        const refs = async (query: string) => (await list(query)).items.map((i) => i.reference).filter((r) => r.startsWith('LIST-')).sort()
        expect(await refs('status=in_transit')).toEqual(['LIST-MOVING'])
        expect(await refs('status=in_transit&status=delivered')).toEqual(['LIST-DONE', 'LIST-MOVING'])
        expect(await refs('q=list-f')).toEqual(['LIST-FULL'])
        for (const key of ['carrier', 'vehicle', 'driver', 'device'] as const) {
          expect(await refs(`${key}Id=${ids[key]}`), key).toEqual(['LIST-FULL'])
        }
        const created = await db.prisma.shipment.findUniqueOrThrow({ where: { id: made.moving } })
        const at = encodeURIComponent(created.createdAt.toISOString())
        expect(await refs(`createdFrom=${at}&createdTo=${at}`)).toEqual(['LIST-MOVING'])
        expect(await refs(`createdTo=${encodeURIComponent(new Date(created.createdAt.getTime() - 1).toISOString())}`)).toEqual(['LIST-FULL'])
      })

      it('pages newest first with a total', async () => {
        const all = await list()
        const page = (await op()({ method: 'GET', url: '/api/v1/shipments?limit=2&offset=1' })).json<{ items: Summary[], total: number, limit: number, offset: number }>()
        expect(page).toMatchObject({ total: all.total, limit: 2, offset: 1 })
        expect(page.items.map((i) => i.id)).toEqual(all.items.slice(1, 3).map((i) => i.id))
        expect(all.items[0]!.id).toBe(made.done)
      })

      it('reads a page in the same number of queries whatever its size (no query per shipment)', async () => {
        for (let i = 0; i < 12; i++) await seed.shipment()
        const small = await countQueries(() => op()({ method: 'GET', url: '/api/v1/shipments?limit=2' }))
        const large = await countQueries(() => op()({ method: 'GET', url: '/api/v1/shipments?limit=20' }))
        expect(small).toBeGreaterThan(0) // the counter sees the statements at all
        expect(large).toBe(small)
        expect(large).toBeLessThanOrEqual(4)
      })
    })
  })
}
