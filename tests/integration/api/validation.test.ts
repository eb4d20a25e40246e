// Malformed requests, resource by resource: each is a 400 with a stable code and a message that
// names the field at fault, and none shows a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { expectNoStack, seeder, square, stop } from './fixtures.js'
import { edgeCases, edgeShipment, type Case, type Ids } from './validation-cases.js'

type Json = Record<string, unknown>

const point = (coordinates: unknown) => ({ type: 'Point', coordinates })
const circle = (extra: Json) => ({ name: 'fence', kind: 'circle', geometry: point([2, 48]), radiusM: 100, ...extra })
const polygon = (coordinates: unknown) => ({ name: 'fence', kind: 'polygon', geometry: { type: 'Polygon', coordinates } })
const corridor = (extra: Json) => ({ name: 'fence', kind: 'corridor', geometry: { type: 'LineString', coordinates: [[2, 48], [2.1, 48.1]] }, widthM: 50, ...extra })
const shipment = (extra: Json) => ({ reference: 'REF-1', stops: [stop('A', 48, 2)], ...extra })
const G = 'INVALID_GEOMETRY'

const cases: Case[] = [
  // shared: ids, pagination
  { name: 'an id that is not a uuid', method: 'GET', url: () => '/api/v1/carriers/not-a-uuid', field: 'id' },
  { name: 'a limit above 500', method: 'GET', url: () => '/api/v1/carriers?limit=501', field: 'limit' },
  { name: 'a negative offset', method: 'GET', url: () => '/api/v1/vehicles?offset=-1', field: 'offset' },
  { name: 'a body that is not JSON', method: 'POST', url: () => '/api/v1/carriers', payload: '{"name":', field: 'JSON', code: 'ERR_CTP_INVALID_JSON_BODY' },
  // users
  { name: 'user: bad email', method: 'POST', url: () => '/api/v1/users', payload: { email: 'nope', password: PASSWORD, role: 'viewer' }, field: 'email' },
  { name: 'user: short password', method: 'POST', url: () => '/api/v1/users', payload: { email: 'x@example.test', password: 'short', role: 'viewer' }, field: 'password' },
  { name: 'user: unknown role', method: 'POST', url: () => '/api/v1/users', payload: { email: 'x@example.test', password: PASSWORD, role: 'root' }, field: 'role' },
  { name: 'user: disabled not a boolean', method: 'PATCH', url: (i) => `/api/v1/users/${i.user}`, payload: { disabled: 'maybe' }, field: 'disabled' },
  // tenants
  { name: 'tenant: bad slug', method: 'POST', url: () => '/api/v1/tenants', payload: { slug: 'Not A Slug', admin: { email: 'a@example.test', password: PASSWORD } }, field: 'slug', platform: true },
  { name: 'tenant: no admin', method: 'POST', url: () => '/api/v1/tenants', payload: { slug: 'fine' }, field: 'admin', platform: true },
  // carriers, drivers, vehicles
  { name: 'carrier: no name', method: 'POST', url: () => '/api/v1/carriers', payload: {}, field: 'name' },
  { name: 'carrier: bad SCAC', method: 'POST', url: () => '/api/v1/carriers', payload: { name: 'c', scac: 'toolong1' }, field: 'scac' },
  { name: 'carrier: bad email', method: 'PATCH', url: (i) => `/api/v1/carriers/${i.carrier}`, payload: { email: 'nope' }, field: 'email' },
  { name: 'driver: empty name', method: 'POST', url: () => '/api/v1/drivers', payload: { name: '' }, field: 'name' },
  { name: 'driver: carrierId not a uuid', method: 'POST', url: () => '/api/v1/drivers', payload: { name: 'd', carrierId: 'nope' }, field: 'carrierId' },
  { name: 'vehicle: unknown kind', method: 'POST', url: () => '/api/v1/vehicles', payload: { name: 'v', kind: 'boat' }, field: 'kind' },
  { name: 'vehicle: unknown kind filter', method: 'GET', url: () => '/api/v1/vehicles?kind=boat', field: 'kind' },
  // devices
  { name: 'device: no name', method: 'POST', url: () => '/api/v1/devices', payload: {}, field: 'name' },
  { name: 'device: vehicleId not a uuid', method: 'PATCH', url: (i) => `/api/v1/devices/${i.device}`, payload: { vehicleId: 'truck' }, field: 'vehicleId' },
  { name: 'device: id with a wildcard', method: 'GET', url: () => '/api/v1/devices/dev%2B1', field: 'id' },
  { name: 'device token: no secret', method: 'POST', url: () => '/api/v1/auth/device-token', payload: { tenant: 'acme', deviceId: 'dev_x' }, field: 'secret' },
  // geofences
  { name: 'geofence: unknown kind', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ kind: 'square' }), field: 'kind' },
  { name: 'geofence: no geometry', method: 'POST', url: () => '/api/v1/geofences', payload: { name: 'f', kind: 'polygon' }, field: 'geometry' },
  { name: 'geofence: unsupported geometry type', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ geometry: { type: 'MultiPoint', coordinates: [] } }), field: 'geometry/type' },
  { name: 'geofence: kind and geometry disagree', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ kind: 'polygon', radiusM: null }), field: 'geometry.type', code: G },
  { name: 'geofence: latitude out of range', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ geometry: point([2, 91]) }), field: 'latitude', code: G },
  { name: 'geofence: longitude out of range', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ geometry: point([-181, 48]) }), field: 'longitude', code: G },
  { name: 'geofence: coordinate not a number', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ geometry: point(['2', 48]) }), field: 'geometry.coordinates[0]', code: G },
  { name: 'geofence: position with one number', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ geometry: point([2]) }), field: 'geometry.coordinates', code: G },
  { name: 'circle: no radius', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ radiusM: undefined }), field: 'radiusM', code: G },
  { name: 'circle: zero radius', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ radiusM: 0 }), field: 'radiusM' },
  { name: 'circle: radius too large', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ radiusM: 1e7 }), field: 'radiusM' },
  { name: 'circle: with a width', method: 'POST', url: () => '/api/v1/geofences', payload: circle({ widthM: 20 }), field: 'widthM', code: G },
  { name: 'polygon: open ring', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([[[2, 48], [2.1, 48], [2.1, 48.1], [2, 48.1]]]), field: 'closed', code: G },
  { name: 'polygon: ring of 3 positions', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([[[2, 48], [2.1, 48], [2, 48]]]), field: 'at least 4', code: G },
  { name: 'polygon: no ring', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([]), field: 'outer ring', code: G },
  { name: 'polygon: crossing edges', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]), field: 'cross', code: G },
  { name: 'polygon: hole outside', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([square(2, 48, 0.1), square(3, 48, 0.01)]), field: 'coordinates[1]', code: G },
  { name: 'polygon: collinear ring', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([[[0, 0], [1, 0], [2, 0], [0, 0]]]), field: 'enclose an area', code: G },
  { name: 'polygon: spanning 180° of longitude', method: 'POST', url: () => '/api/v1/geofences', payload: polygon([[[-100, 10], [0, 10], [100, 10], [100, 20], [0, 20], [-100, 20], [-100, 10]]]), field: '180°', code: G },
  { name: 'corridor: spanning 180° of longitude', method: 'POST', url: () => '/api/v1/geofences', payload: corridor({ geometry: { type: 'LineString', coordinates: [[-120, 10], [0, 12], [120, 10]] } }), field: '180°', code: G },
  { name: 'polygon: with a radius', method: 'POST', url: () => '/api/v1/geofences', payload: { ...polygon([square(2, 48, 0.1)]), radiusM: 10 }, field: 'radiusM', code: G },
  { name: 'corridor: no width', method: 'POST', url: () => '/api/v1/geofences', payload: corridor({ widthM: undefined }), field: 'widthM', code: G },
  { name: 'corridor: negative width', method: 'POST', url: () => '/api/v1/geofences', payload: corridor({ widthM: -5 }), field: 'widthM' },
  { name: 'corridor: one position', method: 'POST', url: () => '/api/v1/geofences', payload: corridor({ geometry: { type: 'LineString', coordinates: [[2, 48]] } }), field: 'at least 2', code: G },
  { name: 'geofence patch: kind without a fitting geometry', method: 'PATCH', url: (i) => `/api/v1/geofences/${i.fence}`, payload: { kind: 'corridor', widthM: 10 }, field: 'geometry.type', code: G },
  { name: 'geofence patch: empty body', method: 'PATCH', url: (i) => `/api/v1/geofences/${i.fence}`, payload: {}, field: 'body' },
  { name: 'geofence list: unknown kind', method: 'GET', url: () => '/api/v1/geofences?kind=blob', field: 'kind' },
  // shipments
  { name: 'shipment: no stops', method: 'POST', url: () => '/api/v1/shipments', payload: { reference: 'R' }, field: 'stops' },
  { name: 'shipment: empty stops', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: [] }), field: 'stops' },
  { name: 'shipment: 51 stops', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: Array.from({ length: 51 }, (_, i) => stop(`s${i}`, 48, 2)) }), field: 'stops' },
  { name: 'shipment: empty reference', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ reference: '' }), field: 'reference' },
  { name: 'shipment: stop latitude out of range', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: [stop('A', 95, 2)] }), field: 'stops/0/lat' },
  { name: 'shipment: unknown stop type', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: [stop('A', 48, 2, { type: 'detour' })] }), field: 'stops/0/type' },
  { name: 'shipment: window not a date-time', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: [stop('A', 48, 2, { windowStart: 'tomorrow' })] }), field: 'windowStart' },
  {
    name: 'shipment: window ends before it starts', method: 'POST', url: () => '/api/v1/shipments', field: 'stops[0].windowStart', code: 'INVALID_RANGE',
    payload: shipment({ stops: [stop('A', 48, 2, { windowStart: '2030-01-02T10:00:00Z', windowEnd: '2030-01-02T08:00:00Z' })] }),
  },
  { name: 'shipment: tempMin above tempMax', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ tempMinC: 8, tempMaxC: 2 }), field: 'tempMinC', code: 'INVALID_RANGE' },
  { name: 'shipment: route of the wrong type', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ route: point([2, 48]) }), field: 'route/type' },
  { name: 'shipment: route of one position', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ route: { type: 'LineString', coordinates: [[2, 48]] } }), field: 'route.coordinates', code: G },
  { name: 'shipment: vehicleId not a uuid', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ vehicleId: 'truck 7' }), field: 'vehicleId' },
  { name: 'shipment: negative dwell', method: 'POST', url: () => '/api/v1/shipments', payload: shipment({ stops: [stop('A', 48, 2, { plannedDwellS: -1 })] }), field: 'plannedDwellS' },
  { name: 'shipment list: unknown status', method: 'GET', url: () => '/api/v1/shipments?status=flying', field: 'status' },
  { name: 'shipment list: createdFrom not a date-time', method: 'GET', url: () => '/api/v1/shipments?createdFrom=yesterday', field: 'createdFrom' },
  { name: 'shipment list: createdFrom after createdTo', method: 'GET', url: () => '/api/v1/shipments?createdFrom=2030-01-02T00:00:00Z&createdTo=2030-01-01T00:00:00Z', field: 'createdFrom', code: 'INVALID_RANGE' },
  { name: 'shipment patch: empty body', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}`, payload: {}, field: 'body' },
  { name: 'shipment patch: tempMax below stored tempMin', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}`, payload: { tempMaxC: -30 }, field: 'tempMaxC', code: 'INVALID_RANGE' },
  { name: 'stop patch: stopId not a uuid', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}/stops/first`, payload: { name: 'x' }, field: 'stopId' },
  { name: 'stop patch: window start after the stored end', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}/stops/${i.stop}`, payload: { windowStart: '2031-01-01T00:00:00Z' }, field: 'windowStart', code: 'INVALID_RANGE' },
  { name: 'stop patch: zero radius', method: 'PATCH', url: (i) => `/api/v1/shipments/${i.shipment}/stops/${i.stop}`, payload: { radiusM: 0 }, field: 'radiusM' },
  { name: 'assign: empty body', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/assign`, payload: {}, field: 'body' },
  { name: 'assign: deviceId with a slash', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/assign`, payload: { deviceId: 'a/b' }, field: 'deviceId' },
  { name: 'cancel: reason not a string', method: 'POST', url: (i) => `/api/v1/shipments/${i.shipment}/cancel`, payload: { reason: 'x'.repeat(1001) }, field: 'reason' },
]

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`request validation on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let ops: TestTenant
    const ids = {} as Ids

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'acme')
      ops = await seedTenant(app, db, 'ops', true)
      const seed = seeder(db, acme.id)
      ids.carrier = await seed.carrier()
      ids.device = (await seed.device()).id
      ids.fence = await seed.geofence()
      ids.user = await seed.user()
      const created = await as(app, acme.tokens.admin)({
        method: 'POST', url: '/api/v1/shipments',
        payload: shipment({ reference: 'VALID-1', tempMinC: 2, tempMaxC: 8, stops: [stop('A', 48, 2, { windowStart: '2030-01-01T08:00:00Z', windowEnd: '2030-01-01T10:00:00Z' })] }),
      })
      ids.shipment = created.json<{ id: string }>().id
      ids.stop = created.json<{ stops: Array<{ id: string }> }>().stops[0]!.id
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    it.each([...cases, ...edgeCases])('$name → 400 naming "$field"', async (c) => {
      const token = c.platform ? ops.tokens.admin : acme.tokens.admin
      const raw = typeof c.payload === 'string'
      const res = await as(app, token)({
        method: c.method, url: c.url(ids),
        ...(c.payload !== undefined ? { payload: c.payload as object, ...(raw ? { headers: { 'content-type': 'application/json' } } : {}) } : {}),
      })
      expect(res.statusCode, res.body).toBe(400)
      const body = res.json<{ code: string, message: string }>()
      expect(body.code).toBe(c.code ?? 'VALIDATION')
      expect(body.message.toLowerCase()).toContain(c.field.toLowerCase())
      expect(expectNoStack(res.body), res.body).toBe(true)
    })

    it('refuses unknown body fields everywhere, and writes nothing', async () => {
      const attempts: Array<[string, string, Json]> = [
        ['POST', '/api/v1/carriers', { name: 'c', color: 'red' }],
        ['POST', '/api/v1/geofences', circle({ color: 'red' })],
        ['POST', '/api/v1/shipments', shipment({ status: 'delivered' })],
        ['PATCH', `/api/v1/shipments/${ids.shipment}`, { status: 'delivered' }],
        ['POST', '/api/v1/shipments', shipment({ stops: [stop('A', 48, 2, { seq: 4 })] })],
      ]
      for (const [method, url, payload] of attempts) {
        const res = await as(app, acme.tokens.admin)({ method: method, url, payload })
        expect(res.statusCode, `${method} ${url}`).toBe(400)
        expect(res.json<{ code: string }>().code).toBe('VALIDATION')
      }
      // and nothing was half-written
      expect(await db.prisma.shipment.count({ where: { tenantId: acme.id } })).toBe(1)
    })

    it('still takes the extremes the database can hold', async () => {
      const admin = as(app, acme.tokens.admin)
      const ok = await admin({
        method: 'POST', url: '/api/v1/shipments',
        payload: edgeShipment({ reference: 'EDGE-OK', stops: [stop('A', 48, 2, { windowStart: '0001-01-01T00:00:00Z', windowEnd: '9999-12-31T23:59:59Z' })] }),
      })
      expect(ok.statusCode, ok.body).toBe(201)
      expect((await admin({ method: 'GET', url: '/api/v1/shipments?createdFrom=0001-01-01T00:00:00Z&offset=2147483647' })).statusCode).toBe(200)
      const ring = [[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]
      const fence = await admin({ method: 'POST', url: '/api/v1/geofences', payload: { name: '3d', kind: 'polygon', geometry: { type: 'Polygon', coordinates: [ring] } } })
      expect(fence.statusCode, fence.body).toBe(201)
    })

    it('names the email when a user with it already exists', async () => {
      const res = await as(app, acme.tokens.admin)({ method: 'POST', url: '/api/v1/users', payload: { email: 'Operator@acme.test', password: PASSWORD, role: 'viewer' } })
      expect(res.statusCode).toBe(409)
      expect(res.json()).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('operator@acme.test') as unknown })
    })
  })
}
