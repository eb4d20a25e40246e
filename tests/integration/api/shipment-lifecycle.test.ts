// Changing shipments after creation: edits, stop changes and skips, assignment, cancellation and
// deletion, with the status rules that guard each, the events they record and the notifications.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import type { ShipmentStatus } from '../../../src/generated/prisma/enums.js'
import { ChangeRecorder, seeder, stop, unique } from './fixtures.js'

type Json = Record<string, unknown>
type Stop = Json & { id: string, seq: number, name: string, status: string, geofenceId: string }
type Shipment = Json & { id: string, status: string, stops: Stop[] }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`shipment lifecycle on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let seed: ReturnType<typeof seeder>
    const changes = new ChangeRecorder()
    const op = () => as(app, acme.tokens.operator)
    const call = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Json) =>
      op()({ method, url: `/api/v1/shipments${url}`, ...(payload ? { payload } : {}) })
    const fresh = async (extra: Json = {}) => {
      const res = await call('POST', '', { reference: unique('ref'), stops: [stop('First', 48, 2), stop('Second', 49, 3)], ...extra })
      expect(res.statusCode, res.body).toBe(201)
      changes.clear()
      return res.json<Shipment>()
    }
    const force = (id: string, status: ShipmentStatus) => db.prisma.shipment.update({ where: { id }, data: { status } })

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db, { changes }))
      acme = await seedTenant(app, db, 'acme')
      seed = seeder(db, acme.id)
    })
    afterAll(async () => { await app?.close(); await db?.close() })
    beforeEach(() => changes.clear())

    describe('PATCH /:id', () => {
      it('changes reference, notes, route and temperatures, and announces it', async () => {
        const s = await fresh({ tempMinC: 2, tempMaxC: 8 })
        const res = await call('PATCH', `/${s.id}`, { reference: 'RENAMED-1', notes: 'gate B', tempMaxC: 5, route: { type: 'LineString', coordinates: [[2, 48], [3, 49]] } })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ reference: 'RENAMED-1', notes: 'gate B', tempMinC: 2, tempMaxC: 5, route: { coordinates: [[2, 48], [3, 49]] } })
        expect((await call('PATCH', `/${s.id}`, { route: null })).json()).toMatchObject({ route: null })
        expect(changes.of('shipment')).toEqual([s.id, s.id])
      })

      it('refuses a reference another shipment has (409) and a range inverted against the stored bound (400)', async () => {
        const s = await fresh({ tempMinC: 2 })
        const other = await fresh()
        expect((await call('PATCH', `/${s.id}`, { reference: other.reference })).json()).toMatchObject({ statusCode: 409, code: 'ALREADY_EXISTS' })
        expect((await call('PATCH', `/${s.id}`, { tempMaxC: 1 })).json()).toMatchObject({ statusCode: 400, code: 'INVALID_RANGE' })
        expect((await call('PATCH', `/${s.id}`, { tempMinC: -5, tempMaxC: 1 })).statusCode).toBe(200)
      })

      it('keeps only notes editable once the shipment is delivered or cancelled', async () => {
        const s = await fresh()
        await force(s.id, 'delivered')
        expect((await call('PATCH', `/${s.id}`, { notes: 'signed by J.' })).statusCode).toBe(200)
        expect((await call('PATCH', `/${s.id}`, { reference: 'LATE-CHANGE' })).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
      })
    })

    describe('stops', () => {
      it('changes a pending stop; its name and radius change its fence too', async () => {
        const s = await fresh()
        const target = s.stops[1]!
        const res = await call('PATCH', `/${s.id}/stops/${target.id}`, { name: 'Second (rear gate)', radiusM: 80, plannedDwellS: 600, windowEnd: '2030-02-01T10:00:00Z' })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ id: target.id, name: 'Second (rear gate)', radiusM: 80, plannedDwellS: 600, windowEnd: '2030-02-01T10:00:00.000Z', geofenceId: target.geofenceId })
        expect(await db.prisma.geofence.findUniqueOrThrow({ where: { id: target.geofenceId } })).toMatchObject({ name: 'Second (rear gate)', radiusM: 80 })
        expect(changes.changes).toEqual([{ kind: 'shipment', tenantId: acme.id, id: s.id }, { kind: 'geofence', tenantId: acme.id, id: target.geofenceId }])
        // a window start after the stored end is refused
        expect((await call('PATCH', `/${s.id}/stops/${target.id}`, { windowStart: '2030-02-01T11:00:00Z' })).json()).toMatchObject({ code: 'INVALID_RANGE' })
      })

      it('refuses to change a stop that is no longer pending (409) or not in this shipment (404)', async () => {
        const s = await fresh()
        const other = await fresh()
        await db.prisma.stop.update({ where: { id: s.stops[0]!.id }, data: { status: 'arrived', arrivedAt: new Date() } })
        expect((await call('PATCH', `/${s.id}/stops/${s.stops[0]!.id}`, { name: 'x' })).json()).toMatchObject({ statusCode: 409, code: 'STOP_NOT_PENDING' })
        expect((await call('POST', `/${s.id}/stops/${s.stops[0]!.id}/skip`)).json()).toMatchObject({ statusCode: 409, code: 'STOP_NOT_PENDING' })
        expect((await call('PATCH', `/${s.id}/stops/${other.stops[0]!.id}`, { name: 'x' })).statusCode).toBe(404)
        expect(changes.changes).toEqual([])
      })

      it('skips a pending stop, records it on the timeline and moves the next stop on', async () => {
        const s = await fresh()
        await db.pool.query(`UPDATE stops SET eta = now(), eta_status = 'late' WHERE id = $1`, [s.stops[0]!.id])
        const res = await call('POST', `/${s.id}/stops/${s.stops[0]!.id}/skip`)
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ status: 'skipped', eta: null, etaStatus: 'unknown' }) // no prediction for a stop nobody goes to
        expect(await db.prisma.trackingEvent.findMany({ where: { shipmentId: s.id } })).toMatchObject([
          // the context the processing core's milestones carry: the reference and the stop
          { type: 'stop_skipped', stopId: s.stops[0]!.id, source: 'user', userId: acme.userIds.operator,
            payload: { reference: s.reference, stop: { seq: 0, type: 'delivery', name: 'First' } } },
        ])
        const listed = await op()({ method: 'GET', url: `/api/v1/shipments?q=${s.reference as string}` })
        expect(listed.json<{ items: Json[] }>().items[0]).toMatchObject({ nextStop: { seq: 1, name: 'Second' } })
        expect((await call('POST', `/${s.id}/stops/${s.stops[0]!.id}/skip`)).statusCode).toBe(409)
      })

      it('skipping the last open stop of a shipment under way delivers it, with a delivered event; of one not yet started, does not', async () => {
        const vehicleId = await seed.vehicle()
        const s = await fresh({ vehicleId })
        await force(s.id, 'in_transit')
        await db.prisma.stop.update({ where: { id: s.stops[0]!.id }, data: { status: 'departed' } })
        expect((await call('POST', `/${s.id}/stops/${s.stops[1]!.id}/skip`)).statusCode).toBe(200)
        expect(await db.prisma.shipment.findUniqueOrThrow({ where: { id: s.id } })).toMatchObject({ status: 'delivered', deliveredAt: expect.any(Date) })
        const last = { seq: 1, type: 'delivery', name: 'Second' }
        const events = await db.prisma.trackingEvent.findMany({ where: { shipmentId: s.id }, orderBy: { id: 'asc' } })
        // like a departure from the last delivery stop: delivered (a webhook filtered on milestones hears it), then the status
        expect(events.map((e) => [e.type, e.payload])).toEqual([
          ['stop_skipped', { reference: s.reference, stop: last }],
          ['delivered', { reference: s.reference, stop: last, by: 'skip' }],
          ['shipment_status', { reference: s.reference, from: 'in_transit', to: 'delivered' }],
        ])
        expect(events.map((e) => [e.stopId, e.vehicleId, e.source, e.userId])).toEqual([
          [s.stops[1]!.id, vehicleId, 'user', acme.userIds.operator],
          [s.stops[1]!.id, vehicleId, 'user', acme.userIds.operator],
          [null, vehicleId, 'user', acme.userIds.operator],
        ])
        expect(new Set(events.map((e) => e.ts.getTime())).size).toBe(1)
        const planned = await fresh()
        for (const stop of planned.stops) expect((await call('POST', `/${planned.id}/stops/${stop.id}/skip`)).statusCode).toBe(200)
        expect((await db.prisma.shipment.findUniqueOrThrow({ where: { id: planned.id } })).status).toBe('planned')
        expect((await db.prisma.trackingEvent.findMany({ where: { shipmentId: planned.id }, orderBy: { id: 'asc' } })).map((e) => e.type)).toEqual(['stop_skipped', 'stop_skipped'])
      })

      it('changes no stop of a cancelled shipment', async () => {
        const s = await fresh()
        await call('POST', `/${s.id}/cancel`)
        expect((await call('PATCH', `/${s.id}/stops/${s.stops[0]!.id}`, { name: 'x' })).json()).toMatchObject({ code: 'SHIPMENT_CLOSED' })
        expect((await call('POST', `/${s.id}/stops/${s.stops[0]!.id}/skip`)).json()).toMatchObject({ code: 'SHIPMENT_CLOSED' })
      })
    })

    describe('assign', () => {
      it('moves planned to assigned with a vehicle or device, and back when both are removed', async () => {
        const s = await fresh()
        const vehicleId = await seed.vehicle()
        const { id: deviceId } = await seed.device()
        const driverId = await seed.driver()
        expect((await call('POST', `/${s.id}/assign`, { driverId })).json()).toMatchObject({ status: 'planned', driverId })
        expect((await call('POST', `/${s.id}/assign`, { vehicleId, deviceId })).json()).toMatchObject({ status: 'assigned', vehicleId, deviceId, driverId })
        expect((await call('POST', `/${s.id}/assign`, { vehicleId: null })).json()).toMatchObject({ status: 'assigned', vehicleId: null, deviceId })
        expect((await call('POST', `/${s.id}/assign`, { deviceId: null })).json()).toMatchObject({ status: 'planned', deviceId: null, driverId })
        expect(changes.of('shipment')).toEqual([s.id, s.id, s.id, s.id])
        // a shipment_status event for each change of status, none for the assignments that keep it
        const events = await db.prisma.trackingEvent.findMany({ where: { shipmentId: s.id }, orderBy: { id: 'asc' } })
        expect(events).toMatchObject([
          { type: 'shipment_status', source: 'user', userId: acme.userIds.operator, vehicleId, deviceId, payload: { reference: s.reference, from: 'planned', to: 'assigned' } },
          { type: 'shipment_status', source: 'user', userId: acme.userIds.operator, vehicleId: null, deviceId: null, payload: { reference: s.reference, from: 'assigned', to: 'planned' } },
        ])
      })

      it('swaps the device of a moving shipment without touching its status', async () => {
        const s = await fresh()
        await force(s.id, 'in_transit')
        const { id: deviceId } = await seed.device()
        expect((await call('POST', `/${s.id}/assign`, { deviceId })).json()).toMatchObject({ status: 'in_transit', deviceId })
        expect(await db.prisma.trackingEvent.count({ where: { shipmentId: s.id } })).toBe(0)
      })

      // On PGlite this also covers the embedded connection surviving a failed statement (the second
      // DELETE runs right after the first one's foreign-key error; see src/db/database.ts).
      it('keeps assigned assets from being deleted while a shipment names them (409)', async () => {
        const vehicleId = await seed.vehicle()
        const { id: deviceId } = await seed.device()
        await fresh({ vehicleId, deviceId })
        const admin = as(app, acme.tokens.admin)
        for (const url of [`/api/v1/vehicles/${vehicleId}`, `/api/v1/devices/${deviceId}`]) {
          expect((await admin({ method: 'DELETE', url })).json(), url).toMatchObject({ statusCode: 409, code: 'REFERENCE_CONFLICT' })
        }
      })

      it('refuses delivered and cancelled shipments (409) and unknown assets (404)', async () => {
        const vehicleId = await seed.vehicle()
        for (const status of ['delivered', 'cancelled'] as const) {
          const s = await fresh()
          await force(s.id, status)
          expect((await call('POST', `/${s.id}/assign`, { vehicleId })).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
        }
        const s = await fresh()
        const res = await call('POST', `/${s.id}/assign`, { driverId: '00000000-0000-4000-8000-000000000000' })
        expect(res.json()).toMatchObject({ statusCode: 404, message: expect.stringContaining('driver') })
        expect(changes.changes).toEqual([])
      })
    })

    describe('cancel', () => {
      it('cancels with a reason, stamps cancelledAt and records who did it', async () => {
        const vehicleId = await seed.vehicle()
        const s = await fresh({ vehicleId })
        const res = await call('POST', `/${s.id}/cancel`, { reason: 'customer called' })
        expect(res.statusCode, res.body).toBe(200)
        expect(res.json()).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) })
        const who = { source: 'user', userId: acme.userIds.operator, vehicleId }
        expect(await db.prisma.trackingEvent.findMany({ where: { shipmentId: s.id }, orderBy: { id: 'asc' } })).toMatchObject([
          { type: 'shipment_cancelled', ...who, payload: { reference: s.reference, reason: 'customer called' } },
          { type: 'shipment_status', ...who, payload: { reference: s.reference, from: 'assigned', to: 'cancelled' } },
        ])
        expect(changes.of('shipment')).toEqual([s.id])
      })

      it('needs no body, and refuses a second cancel or a delivered shipment with 409', async () => {
        const s = await fresh()
        expect((await call('POST', `/${s.id}/cancel`)).statusCode).toBe(200)
        // its stops stay pending, but a cancelled shipment goes nowhere next
        const listed = await op()({ method: 'GET', url: `/api/v1/shipments?q=${encodeURIComponent(String(s["reference"]))}` })
        expect(listed.json<{ items: Json[] }>().items[0]).toMatchObject({ status: 'cancelled', nextStop: null })
        expect((await call('POST', `/${s.id}/cancel`)).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED', message: expect.stringContaining('already cancelled') })
        const delivered = await fresh()
        await force(delivered.id, 'delivered')
        expect((await call('POST', `/${delivered.id}/cancel`, { reason: 'too late' })).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
        expect(await db.prisma.trackingEvent.count({ where: { shipmentId: delivered.id } })).toBe(0)
        expect(await db.prisma.shipment.findUniqueOrThrow({ where: { id: delivered.id } })).toMatchObject({ status: 'delivered', cancelledAt: null })
      })

      it('takes an empty body sent as application/json as no body; a malformed one is still a 400', async () => {
        const s = await fresh()
        const post = (payload: string) => op()({ method: 'POST', url: `/api/v1/shipments/${s.id}/cancel`, headers: { 'content-type': 'application/json' }, payload })
        expect((await post('{"reason":')).json()).toMatchObject({ statusCode: 400 })
        expect((await post('')).json()).toMatchObject({ status: 'cancelled' })
        // and the 409 of a second cancel is not hidden behind a 400
        expect((await post('')).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
        expect((await post('{"__proto__":{"x":1}}')).statusCode).toBe(400) // Fastify's prototype-poisoning guard still runs
      })
    })

    describe('delete', () => {
      const remove = (id: string) => as(app, acme.tokens.admin)({ method: 'DELETE', url: `/api/v1/shipments/${id}` })

      it('deletes a planned shipment with its stops and fences, keeps its events, and announces all', async () => {
        const s = await fresh()
        await call('POST', `/${s.id}/stops/${s.stops[0]!.id}/skip`)
        changes.clear()
        expect((await remove(s.id)).statusCode).toBe(204)
        expect(await db.prisma.stop.count({ where: { shipmentId: s.id } })).toBe(0)
        expect(await db.prisma.geofence.count({ where: { id: { in: s.stops.map((x) => x.geofenceId) } } })).toBe(0)
        expect(await db.prisma.trackingEvent.count({ where: { shipmentId: s.id } })).toBe(1)
        expect(changes.of('shipment')).toEqual([s.id])
        expect(changes.of('geofence').sort()).toEqual(s.stops.map((x) => x.geofenceId).sort())
        expect((await remove(s.id)).statusCode).toBe(404)
      })

      it('deletes assigned and cancelled shipments, not ones under way or delivered', async () => {
        for (const [status, code] of [['assigned', 204], ['cancelled', 204], ['in_transit', 409], ['at_stop', 409], ['exception', 409], ['delivered', 409]] as const) {
          const s = await fresh()
          await force(s.id, status)
          const res = await remove(s.id)
          expect(res.statusCode, `${status}: ${res.body}`).toBe(code)
          if (code === 409) expect(res.json()).toMatchObject({ code: 'SHIPMENT_NOT_DELETABLE', message: expect.stringContaining(status) })
        }
      })
    })
  })
}
