// Tenant isolation: tenant B's admin can neither see nor touch nor reference anything of tenant A.
// Another tenant's id answers exactly like an id that does not exist (404), and the database shows
// afterwards that nothing of A changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { FakeCommands, snapshot, square, stop } from './fixtures.js'

type Json = Record<string, unknown>
type Probe = [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Json]

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`tenant isolation on ${backend.name}`, () => {
    let db: Database
    let app: App
    let alpha: TestTenant
    let bravo: TestTenant
    const commands = new FakeCommands()
    /** ids of alpha's rows */
    const a = {} as Record<'carrier' | 'driver' | 'vehicle' | 'device' | 'secret' | 'fence' | 'stopFence' | 'shipment' | 'stop' | 'user', string>
    /** ids of bravo's own rows */
    const b = {} as Record<'vehicle' | 'driver' | 'device' | 'shipment', string>
    let before: Awaited<ReturnType<typeof snapshot>>
    const asB = () => as(app, bravo.tokens.admin)

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db, { ...({ commands } as object) }))
      alpha = await seedTenant(app, db, 'alpha')
      bravo = await seedTenant(app, db, 'bravo')

      const make = async (token: string, url: string, payload: Json) => {
        const res = await as(app, token)({ method: 'POST', url: `/api/v1/${url}`, payload })
        if (res.statusCode !== 201) throw new Error(`${url}: ${res.body}`)
        return res.json<Json>()
      }
      const A = alpha.tokens.admin
      a.carrier = (await make(A, 'carriers', { name: 'Alpha Freight' })).id as string
      a.driver = (await make(A, 'drivers', { name: 'Alpha Driver', carrierId: a.carrier })).id as string
      a.vehicle = (await make(A, 'vehicles', { name: 'Alpha Truck', carrierId: a.carrier })).id as string
      const device = await make(A, 'devices', { name: 'Alpha Tracker', vehicleId: a.vehicle })
      a.device = (device.device as Json).id as string
      a.secret = device.secret as string
      a.fence = (await make(A, 'geofences', { name: 'Alpha Yard', kind: 'polygon', geometry: { type: 'Polygon', coordinates: [square(2, 48, 0.01)] } })).id as string
      const shipment = await make(A, 'shipments', {
        reference: 'ALPHA-1', carrierId: a.carrier, vehicleId: a.vehicle, driverId: a.driver, deviceId: a.device,
        stops: [stop('Alpha Depot', 48.1, 2.1, { type: 'pickup' }), stop('Alpha Client', 48.5, 2.5)],
      })
      a.shipment = shipment.id as string
      const stops = shipment.stops as Json[]
      a.stop = stops[0]!.id as string
      a.stopFence = stops[0]!.geofenceId as string
      a.user = alpha.userIds.operator

      const B = bravo.tokens.admin
      b.vehicle = (await make(B, 'vehicles', { name: 'Bravo Truck' })).id as string
      b.driver = (await make(B, 'drivers', { name: 'Bravo Driver' })).id as string
      b.device = ((await make(B, 'devices', { name: 'Bravo Tracker' })).device as Json).id as string
      b.shipment = (await make(B, 'shipments', { reference: 'BRAVO-1', stops: [stop('Bravo Dock', 45, 5)] })).id as string

      before = await snapshot(db, alpha.id)
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    const crud = (resource: string, id: () => string, patch: Json): Array<() => Probe> => [
      () => ['GET', `/api/v1/${resource}/${id()}`],
      () => ['PATCH', `/api/v1/${resource}/${id()}`, patch],
      () => ['DELETE', `/api/v1/${resource}/${id()}`],
    ]
    const probes: Array<() => Probe> = [
      ...crud('users', () => a.user, { name: 'taken over' }),
      ...crud('carriers', () => a.carrier, { name: 'taken over' }),
      ...crud('drivers', () => a.driver, { name: 'taken over' }),
      ...crud('vehicles', () => a.vehicle, { name: 'taken over' }),
      ...crud('devices', () => a.device, { name: 'taken over' }),
      ...['rotate-secret', 'disable', 'enable', 'token'].map((action) => (): Probe => ['POST', `/api/v1/devices/${a.device}/${action}`]),
      () => ['POST', `/api/v1/devices/${a.device}/commands`, { type: 'reboot' }],
      ...crud('geofences', () => a.fence, { name: 'taken over' }),
      ...crud('geofences', () => a.stopFence, { name: 'taken over' }),
      ...crud('shipments', () => a.shipment, { notes: 'taken over' }),
      () => ['POST', `/api/v1/shipments/${a.shipment}/assign`, { vehicleId: b.vehicle }],
      () => ['POST', `/api/v1/shipments/${a.shipment}/cancel`, { reason: 'taken over' }],
      () => ['PATCH', `/api/v1/shipments/${a.shipment}/stops/${a.stop}`, { name: 'taken over' }],
      () => ['POST', `/api/v1/shipments/${a.shipment}/stops/${a.stop}/skip`],
      // bravo's own shipment with alpha's stop
      () => ['PATCH', `/api/v1/shipments/${b.shipment}/stops/${a.stop}`, { name: 'taken over' }],
      () => ['POST', `/api/v1/shipments/${b.shipment}/stops/${a.stop}/skip`],
    ]

    it('answers 404 without data to every read, change and action on the other tenant\'s ids', async () => {
      const failures: string[] = []
      for (const probe of probes) {
        const [method, url, payload] = probe()
        const res = await asB()({ method, url, ...(payload ? { payload } : {}) })
        if (res.statusCode !== 404 || res.json<Json>().code !== 'NOT_FOUND' || /alpha/i.test(res.body)) failures.push(`${method} ${url} → ${res.statusCode} ${res.body}`)
      }
      expect(failures).toEqual([])
      expect(commands.sent).toEqual([])
    })

    it('never lists the other tenant\'s rows, whatever the filter', async () => {
      const alphaIds = new Set(Object.values(a))
      const lists = [
        'users', 'carriers', 'drivers', 'vehicles', 'devices', 'geofences', 'shipments',
        'carriers?q=alpha', 'drivers?q=alpha', `drivers?carrierId=${a.carrier}`, 'vehicles?q=alpha', `vehicles?carrierId=${a.carrier}`,
        'devices?q=alpha', `devices?vehicleId=${a.vehicle}`, 'geofences?q=alpha', 'geofences?stop=true', `geofences?shipmentId=${a.shipment}`,
        'shipments?q=alpha', `shipments?carrierId=${a.carrier}`, `shipments?vehicleId=${a.vehicle}`, `shipments?driverId=${a.driver}`,
        `shipments?deviceId=${a.device}`, 'shipments?status=assigned',
      ]
      for (const list of lists) {
        const res = await asB()({ method: 'GET', url: `/api/v1/${list}${list.includes('?') ? '&' : '?'}limit=500` })
        expect(res.statusCode, list).toBe(200)
        const items = res.json<{ items: Json[] }>().items
        expect(items.filter((i) => alphaIds.has(i.id as string)), list).toEqual([])
        expect(res.body, list).not.toMatch(/alpha/i)
      }
    })

    it('refuses with 404 to create or change its own rows pointing at the other tenant\'s', async () => {
      const base = { reference: 'BRAVO-X', stops: [stop('Bravo Dock', 45, 5)] }
      const attempts: Probe[] = [
        ['POST', '/api/v1/shipments', { ...base, carrierId: a.carrier }],
        ['POST', '/api/v1/shipments', { ...base, vehicleId: a.vehicle }],
        ['POST', '/api/v1/shipments', { ...base, driverId: a.driver }],
        ['POST', '/api/v1/shipments', { ...base, deviceId: a.device }],
        ['POST', '/api/v1/devices', { name: 'Bravo Tracker 2', vehicleId: a.vehicle }],
        ['POST', '/api/v1/drivers', { name: 'Bravo Driver 2', carrierId: a.carrier }],
        ['POST', '/api/v1/vehicles', { name: 'Bravo Truck 2', carrierId: a.carrier }],
        ['PATCH', `/api/v1/devices/${b.device}`, { vehicleId: a.vehicle }],
        ['PATCH', `/api/v1/vehicles/${b.vehicle}`, { carrierId: a.carrier }],
        ['PATCH', `/api/v1/drivers/${b.driver}`, { carrierId: a.carrier }],
        ['POST', `/api/v1/shipments/${b.shipment}/assign`, { carrierId: a.carrier }],
        ['POST', `/api/v1/shipments/${b.shipment}/assign`, { vehicleId: a.vehicle }],
        ['POST', `/api/v1/shipments/${b.shipment}/assign`, { driverId: a.driver }],
        ['POST', `/api/v1/shipments/${b.shipment}/assign`, { deviceId: a.device }],
      ]
      for (const [method, url, payload] of attempts) {
        const res = await asB()({ method, url, ...(payload ? { payload } : {}) })
        expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}: ${res.body}`).toBe(404)
        expect(res.json<Json>().code).toBe('NOT_FOUND')
      }
      const bravoShipments = await db.prisma.shipment.findMany({ where: { tenantId: bravo.id } })
      expect(bravoShipments.map((s) => ({ reference: s.reference, status: s.status, vehicleId: s.vehicleId, carrierId: s.carrierId })))
        .toEqual([{ reference: 'BRAVO-1', status: 'planned', vehicleId: null, carrierId: null }])
      expect(await db.prisma.device.count({ where: { tenantId: bravo.id, vehicleId: { not: null } } })).toBe(0)
    })

    it('does not let a device secret of one tenant work under another tenant\'s name', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/device-token', payload: { tenant: 'bravo', deviceId: a.device, secret: a.secret } })
      expect(res.statusCode).toBe(401)
    })

    it('left every row of the other tenant exactly as it was', async () => {
      expect(await snapshot(db, alpha.id)).toEqual(before)
    })
  })
}
