// The processors' per-asset context from the database: cached, dropped on a change notification,
// and refreshed in the background once its TTL is over while the old one keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DbAssetContextLoader } from '../../../src/db/asset-context.js'
import { DeviceDirectory } from '../../../src/db/device-directory.js'
import type { Database } from '../../../src/db/database.js'
import type { App } from '../../../src/api/app.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import { databaseBackends, silentLog } from '../../helpers/databases.js'
import { eventually } from '../../helpers/server.js'

/**
 * Long enough that the first load and a rename finish well within it on a busy CI machine (at 100 ms
 * the first load, three queries, sometimes outlived it there: the next read then started the refresh
 * early and the stale answer the test waits for was already fresh)
 */
const TTL_MS = 1000

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`asset context loader on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let key: { tenantId: string, deviceId: string }
    let shipmentId: string
    let contexts: DbAssetContextLoader
    const reference = async () => (await contexts.load(key)).shipment?.reference
    const rename = (to: string) => db.pool.query('UPDATE shipments SET reference = $1 WHERE id = $2', [to, shipmentId])

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'ctx')
      const op = as(app, acme.tokens.operator)
      const created = await as(app, acme.tokens.admin)({ method: 'POST', url: '/api/v1/devices', payload: { name: 'tracker' } })
      expect(created.statusCode, created.body).toBe(201)
      const device = created.json<{ device: { id: string } }>().device
      const shipment = await op({ method: 'POST', url: '/api/v1/shipments', payload: {
        reference: 'A', deviceId: device.id,
        stops: [{ type: 'pickup', name: 'P', lat: 48, lon: 2 }, { type: 'delivery', name: 'D', lat: 48.5, lon: 2.5 }],
      } })
      expect(shipment.statusCode, shipment.body).toBe(201)
      shipmentId = shipment.json<{ id: string }>().id
      key = { tenantId: acme.id, deviceId: device.id }
      contexts = new DbAssetContextLoader(db.pool, new DeviceDirectory(db.pool), silentLog, TTL_MS)
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    it('serves the cached plan until its TTL, then the old one while a fresh one loads, then the fresh one', async () => {
      expect(await reference()).toBe('A')
      await rename('B')
      expect(await reference()).toBe('A') // cached
      await new Promise((resolve) => setTimeout(resolve, TTL_MS + 20))
      // expired: answered at once from the old entry (no batch waits on the database), refresh started
      expect(await reference()).toBe('A')
      await eventually(async () => await reference() === 'B', 5000, 'the refreshed plan')
    })

    it('reads anew right after a change notification', async () => {
      await rename('C')
      contexts.invalidate(acme.id, 'plans')
      expect(await reference()).toBe('C')
    })

    it('a refresh that was under way when a change came in does not put its older answer back', async () => {
      await new Promise((resolve) => setTimeout(resolve, TTL_MS + 20))
      expect(await reference()).toBe('C') // starts a refresh that reads 'C'
      contexts.invalidate(acme.id, 'plans')
      await rename('E')
      expect(await reference()).toBe('E')
      await new Promise((resolve) => setTimeout(resolve, 50)) // the refresh has answered by now
      expect(await reference()).toBe('E')
    })

    it('with several trips given to one truck, follows the one under way, else the one due first, else the one planned first', async () => {
      const admin = as(app, acme.tokens.admin)
      const device = (await admin({ method: 'POST', url: '/api/v1/devices', payload: { name: 'busy truck' } })).json<{ device: { id: string } }>().device
      const truck = { tenantId: acme.id, deviceId: device.id }
      const fresh = new DbAssetContextLoader(db.pool, new DeviceDirectory(db.pool), silentLog, TTL_MS)
      const carried = async () => { fresh.invalidate(acme.id, 'plans'); return (await fresh.load(truck)).shipment?.reference }
      const trip = async (reference: string, windowStart?: string) => {
        const res = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/shipments', payload: {
          reference, deviceId: device.id,
          stops: [{ type: 'pickup', name: 'P', lat: 48, lon: 2, ...(windowStart ? { windowStart } : {}) }, { type: 'delivery', name: 'D', lat: 48.5, lon: 2.5 }],
        } })
        expect(res.statusCode, res.body).toBe(201)
        return res.json<{ id: string, status: string }>()
      }
      const monday = await trip('MON')
      await trip('TUE')
      expect(monday.status).toBe('assigned')
      expect(await carried()).toBe('MON') // planned first, not the last one created
      const early = await trip('DUE-FIRST', new Date(Date.now() + 3_600_000).toISOString())
      expect(await carried()).toBe('DUE-FIRST') // an appointment comes before trips without one
      await db.pool.query(`UPDATE shipments SET status = 'in_transit', started_at = now() WHERE id = (SELECT id FROM shipments WHERE reference = 'TUE' AND tenant_id = $1)`, [acme.id])
      expect(await carried()).toBe('TUE') // the trip under way wins
      expect(early.status).toBe('assigned')
      // also over a later trip that names the device while the one under way names only the vehicle
      const vehicle = (await admin({ method: 'POST', url: '/api/v1/vehicles', payload: { name: 'Truck 9' } })).json<{ id: string }>().id
      await admin({ method: 'PATCH', url: `/api/v1/devices/${device.id}`, payload: { vehicleId: vehicle } })
      await db.pool.query(`UPDATE shipments SET device_id = NULL, vehicle_id = $2 WHERE reference = 'TUE' AND tenant_id = $1`, [acme.id, vehicle])
      const afresh = new DbAssetContextLoader(db.pool, new DeviceDirectory(db.pool), silentLog, TTL_MS) // the device's new vehicle, read anew
      expect((await afresh.load(truck)).shipment?.reference).toBe('TUE')

      // a trip whose stops were all skipped before it started is nobody's trip: it cannot hold the truck
      await db.pool.query(`UPDATE shipments SET status = 'cancelled' WHERE reference = 'TUE' AND tenant_id = $1`, [acme.id])
      await db.pool.query(`UPDATE stops SET status = 'skipped' WHERE shipment_id = $1`, [early.id])
      afresh.invalidate(acme.id, 'plans')
      expect((await afresh.load(truck)).shipment?.reference).toBe('MON')
    })
  })
}
