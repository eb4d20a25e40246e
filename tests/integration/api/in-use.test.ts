// Deleting a record another one still names: a 409 that says which records hold it, and the row stays.
import { describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { appWithTenant, as } from '../../helpers/app.js'
import { expectNoStack, seeder } from './fixtures.js'

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`deleting a record in use on ${backend.name}`, () => {
    const suite = appWithTenant(backend)

    it('answers 409 REFERENCE_CONFLICT naming what still refers to it', async () => {
      const { db, app, tenant: acme } = suite
      const p = db.prisma
      const seed = seeder(db, acme.id)
      const tenantId = acme.id
      const carrier = await seed.carrier()
      const driver = await seed.driver()
      const vehicle = await seed.vehicle()
      const device = await seed.device()
      await p.driver.create({ data: { tenantId, name: 'employed', carrierId: carrier } })
      await p.device.update({ where: { id: device.id }, data: { vehicleId: vehicle } })
      const other = await seed.device()
      await p.shipment.create({ data: { tenantId, reference: 'IN-USE', driverId: driver, deviceId: other.id } })
      const admin = as(app, acme.tokens.admin)
      const attempts: Array<[string, string, string]> = [
        ['carriers', carrier, 'drivers, vehicles or shipments'],
        ['drivers', driver, 'shipments'],
        ['vehicles', vehicle, 'devices or shipments'],
        ['devices', other.id, 'shipments'],
      ]
      for (const [resource, id, by] of attempts) {
        const res = await admin({ method: 'DELETE', url: `/api/v1/${resource}/${id}` })
        expect(res.statusCode, res.body).toBe(409)
        const body = res.json<{ code: string, message: string }>()
        expect(body.code).toBe('REFERENCE_CONFLICT')
        expect(body.message).toContain(id)
        expect(body.message).toContain(`${by} still refer to it`)
        expect(expectNoStack(res.body)).toBe(true)
      }
      expect(await p.carrier.count({ where: { id: carrier } })).toBe(1)
      expect(await p.device.count({ where: { id: other.id } })).toBe(1)
    })
  })
}
