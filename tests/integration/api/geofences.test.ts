// Geofences: the three kinds, filters and pagination, kind changes, stop fences that only their
// shipment may change, and a change notification for every write.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { ChangeRecorder, square, stop } from './fixtures.js'

type Fence = { id: string, name: string, kind: string, geometry: { type: string, coordinates: unknown[] }, radiusM: number | null, widthM: number | null, stopId: string | null }
interface Page { items: Fence[], total: number, limit: number, offset: number }

const yard = { name: 'North Yard', kind: 'polygon', geometry: { type: 'Polygon', coordinates: [square(2, 48, 0.1), square(2.02, 48.02, 0.02)] } }
const depot = { name: 'Depot', kind: 'circle', geometry: { type: 'Point', coordinates: [2.35, 48.85, 35] }, radiusM: 300 }
const a6 = { name: 'A6 corridor', kind: 'corridor', geometry: { type: 'LineString', coordinates: [[2.3, 48.8], [2.6, 48.4], [3, 47.9]] }, widthM: 400 }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`geofences on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    const changes = new ChangeRecorder()
    const op = () => as(app, acme.tokens.operator)
    const created: Record<string, Fence> = {}

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db, { changes }))
      acme = await seedTenant(app, db, 'acme')
    })
    afterAll(async () => { await app?.close(); await db?.close() })
    beforeEach(() => changes.clear())

    it('creates a polygon with a hole, a circle and a corridor, and announces each', async () => {
      for (const body of [yard, depot, a6]) {
        const res = await op()({ method: 'POST', url: '/api/v1/geofences', payload: body })
        expect(res.statusCode, res.body).toBe(201)
        const fence = res.json<Fence>()
        expect(fence).toMatchObject({ ...body, stopId: null })
        created[body.kind] = fence
      }
      expect(created.polygon!.radiusM).toBeNull()
      expect(created.circle).toMatchObject({ radiusM: 300, widthM: null })
      expect(created.corridor).toMatchObject({ radiusM: null, widthM: 400 })
      expect(changes.changes).toEqual(Object.values(created).map((f) => ({ kind: 'geofence', tenantId: acme.id, id: f.id })))
    })

    it('stores only type and coordinates of the geometry', async () => {
      const res = await op()({ method: 'POST', url: '/api/v1/geofences', payload: { ...depot, name: 'Depot 2', geometry: { ...depot.geometry, bbox: [0, 0, 1, 1], crs: 'x' } } })
      expect(res.statusCode).toBe(201)
      const row = await db.prisma.geofence.findUniqueOrThrow({ where: { id: res.json<Fence>().id } })
      expect(row.geometry).toEqual(depot.geometry)
      await op()({ method: 'DELETE', url: `/api/v1/geofences/${row.id}` })
    })

    it('filters by kind and name and pages through the rest', async () => {
      const list = async (query: string) => (await op()({ method: 'GET', url: `/api/v1/geofences?${query}` })).json<Page>()
      expect((await list('kind=corridor')).items.map((f) => f.name)).toEqual(['A6 corridor'])
      expect((await list('q=yard')).items.map((f) => f.name)).toEqual(['North Yard'])
      const first = await list('limit=2')
      const second = await list('limit=2&offset=2')
      expect(first.total).toBe(3)
      expect([...first.items, ...second.items].map((f) => f.name).sort()).toEqual(['A6 corridor', 'Depot', 'North Yard'])
      expect(second).toMatchObject({ limit: 2, offset: 2, total: 3 })
      expect(second.items).toHaveLength(1)
    })

    it('changes a circle\'s radius, and turns it into a polygon without carrying the radius over', async () => {
      const id = created.circle!.id
      const bigger = await op()({ method: 'PATCH', url: `/api/v1/geofences/${id}`, payload: { radiusM: 500 } })
      expect(bigger.json()).toMatchObject({ kind: 'circle', radiusM: 500 })
      const turned = await op()({ method: 'PATCH', url: `/api/v1/geofences/${id}`, payload: { kind: 'polygon', geometry: { type: 'Polygon', coordinates: [square(2.3, 48.8, 0.01)] } } })
      expect(turned.statusCode, turned.body).toBe(200)
      expect(turned.json()).toMatchObject({ kind: 'polygon', radiusM: null, widthM: null })
      const stray = await op()({ method: 'PATCH', url: `/api/v1/geofences/${id}`, payload: { widthM: 20 } })
      expect(stray.statusCode).toBe(400)
      expect(changes.of('geofence')).toEqual([id, id])
    })

    it('deletes a fence and announces it; a second delete is a 404', async () => {
      const id = created.corridor!.id
      expect((await op()({ method: 'DELETE', url: `/api/v1/geofences/${id}` })).statusCode).toBe(204)
      expect(changes.changes).toEqual([{ kind: 'geofence', tenantId: acme.id, id }])
      expect((await op()({ method: 'DELETE', url: `/api/v1/geofences/${id}` })).statusCode).toBe(404)
      expect((await op()({ method: 'GET', url: `/api/v1/geofences/${id}` })).statusCode).toBe(404)
    })

    it('lists stop fences, filterable, but changes them only through their shipment (409)', async () => {
      const shipment = await op()({ method: 'POST', url: '/api/v1/shipments', payload: { reference: 'S-1', stops: [stop('Dock 1', 48.9, 2.4), stop('Dock 2', 48.7, 2.2)] } })
      const { id: shipmentId, stops } = shipment.json<{ id: string, stops: Array<{ id: string, geofenceId: string }> }>()
      const stopFences = (await op()({ method: 'GET', url: '/api/v1/geofences?stop=true' })).json<Page>()
      expect(stopFences.items.map((f) => f.name).sort()).toEqual(['Dock 1', 'Dock 2'])
      expect((await op()({ method: 'GET', url: `/api/v1/geofences?shipmentId=${shipmentId}&q=dock%202` })).json<Page>().items.map((f) => f.stopId)).toEqual([stops[1]!.id])
      expect((await op()({ method: 'GET', url: '/api/v1/geofences?stop=false' })).json<Page>().items.every((f) => f.stopId === null)).toBe(true)

      changes.clear()
      const fenceId = stops[0]!.geofenceId
      for (const attempt of [{ method: 'PATCH' as const, payload: { name: 'renamed' } }, { method: 'DELETE' as const }]) {
        const res = await op()({ ...attempt, url: `/api/v1/geofences/${fenceId}` })
        expect(res.statusCode).toBe(409)
        expect(res.json()).toMatchObject({ code: 'STOP_GEOFENCE', message: expect.stringContaining(`/api/v1/shipments/${shipmentId}/stops/${stops[0]!.id}`) })
      }
      expect(await db.prisma.geofence.findUniqueOrThrow({ where: { id: fenceId } })).toMatchObject({ name: 'Dock 1' })
      expect(changes.changes).toEqual([])
    })

    it('lets a viewer read but not write', async () => {
      const viewer = as(app, acme.tokens.viewer)
      expect((await viewer({ method: 'GET', url: `/api/v1/geofences/${created.polygon!.id}` })).statusCode).toBe(200)
      expect((await viewer({ method: 'POST', url: '/api/v1/geofences', payload: depot })).statusCode).toBe(403)
    })
  })
}
