// GET /shipments/:id/timeline: the shipment's own events and its device's events during the trip,
// in (ts, id) order, paged forward and backward without repeats or gaps; never another tenant's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as } from '../../helpers/app.js'
import { seeder, stop, unique } from '../api/fixtures.js'
import type { NewTrackingEvent } from '../../../src/db/tracking-events.js'
import { getter, storeEvents, trackingEnv, walk, type TrackingEnv } from './setup.js'

interface Item { id: number, type: string, ts: string }
interface Page { items: Item[], nextCursor: string | null, prevCursor: string | null }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`shipment timeline on ${backend.name}`, () => {
    let env: TrackingEnv
    let shipmentId: string
    let deviceId: string
    let expected: number[]

    beforeAll(async () => {
      env = await trackingEnv(backend)
      const { acme, globex, app, db } = env
      deviceId = (await seeder(db, acme.id).device()).id
      const otherDevice = (await seeder(db, acme.id).device()).id
      const created = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/shipments', payload: { reference: unique('tl'), deviceId, stops: [stop('Dock', 48, 2)] } })
      shipmentId = created.json<{ id: string }>().id
      const other = await seeder(db, acme.id).shipment()
      const t = Date.now() + 60_000
      const ev = (type: string, ts: number, extra: Partial<NewTrackingEvent> = {}): NewTrackingEvent =>
        ({ tenantId: acme.id, type, ts, source: 'rule', payload: {}, ...extra })
      const stored = await storeEvents(db, [
        ev('shipment_status', t + 1000, { shipmentId }),                                     // 0
        ev('arrived', t + 500, { shipmentId }),                                              // 1
        ev('sos', t + 700, { source: 'device', deviceId }),                                  // 2 device event during the trip
        ev('sos', t - 3_600_000, { source: 'device', deviceId }),                            // 3 before the shipment existed
        ev('sos', t + 800, { source: 'device', deviceId: otherDevice }),                     // 4 another device
        ev('arrived', t + 600, { shipmentId: other.id, deviceId }),                          // 5 another shipment
        ev('device_offline', t + 900, { deviceId }),                                         // 6 not device-originated
        ev('eta_updated', t + 2000, { shipmentId }),                                         // 7 same time as 8: id decides
        ev('late', t + 2000, { shipmentId }),                                                // 8
        ev('comment', t + 1500, { source: 'user', shipmentId }),                             // 9
        ev('arrived', t + 1200, { tenantId: globex.id, shipmentId }),                        // 10 another tenant, same id
        ev('door_open', t + 1800, { tenantId: globex.id, source: 'device', deviceId }),      // 11 another tenant's row with that device id
      ])
      expected = [1, 2, 0, 9, 7, 8].map((i) => stored[i]!.id)
    })
    afterAll(async () => { await env?.close() })

    const get = () => getter(env.app, env.acme)
    const url = (q = '') => `/api/v1/shipments/${shipmentId}/timeline${q}`

    it('lists the shipment\'s events and its device\'s events during the trip, in event-time order', async () => {
      const res = await get()<Page>(url())
      expect(res.status).toBe(200)
      expect(res.body.items.map((i) => i.id)).toEqual(expected)
      expect(res.body).toMatchObject({ nextCursor: null, prevCursor: null })
      expect(res.body.items[0]).toMatchObject({ type: 'arrived', shipmentId, source: 'rule', payload: {}, userId: null })
    })

    it('of a shipment assigned by vehicle, lists the own events of the devices on that vehicle during the trip', async () => {
      const { acme, app, db } = env
      const seed = seeder(db, acme.id)
      const vehicleId = await seed.vehicle()
      const onTruck = (await seed.device()).id
      const elsewhere = (await seed.device()).id
      const created = await as(app, acme.tokens.operator)({ method: 'POST', url: '/api/v1/shipments', payload: { reference: unique('veh'), vehicleId, stops: [stop('Dock', 48, 2)] } })
      const id = created.json<{ id: string }>().id
      const t = Date.now() + 60_000
      const stored = await storeEvents(db, [
        { tenantId: acme.id, type: 'door_open', ts: t, source: 'device', deviceId: onTruck, vehicleId, payload: {} },
        { tenantId: acme.id, type: 'door_open', ts: t + 1, source: 'device', deviceId: elsewhere, payload: {} },
        { tenantId: acme.id, type: 'arrived', ts: t + 2, source: 'rule', shipmentId: id, payload: {} },
      ])
      const res = await get()<Page>(`/api/v1/shipments/${id}/timeline`)
      expect(res.body.items.map((i) => i.id)).toEqual([stored[0]!.id, stored[2]!.id])
    })

    it('pages forward with after and backward with before, without repeats or gaps', async () => {
      const forward = await walk(url(), async (cursor) => {
        const p = (await get()<Page>(url(`?limit=2${cursor ? `&after=${cursor}` : ''}`))).body
        return { items: p.items.map((i) => i.id), next: p.nextCursor }
      })
      expect(forward.map((p) => p.length)).toEqual([2, 2, 2])
      expect(forward.flat()).toEqual(expected)

      const last = (await get()<Page>(url(`?limit=2&after=${(await get()<Page>(url('?limit=4'))).body.nextCursor}`))).body
      expect(last.items.map((i) => i.id)).toEqual(expected.slice(4))
      expect(last.nextCursor).toBeNull()
      const backward = await walk(url(), async (cursor) => {
        const p = (await get()<Page>(url(`?limit=2&before=${cursor ?? last.prevCursor}`))).body
        return { items: p.items.map((i) => i.id), next: p.prevCursor }
      })
      expect(backward.reverse().flat()).toEqual(expected.slice(0, 4))
    })

    it('refuses both cursors at once, a cursor it did not issue, and another tenant\'s shipment', async () => {
      const first = (await get()<Page>(url('?limit=1'))).body
      expect((await get()<{ code: string }>(url(`?after=${first.nextCursor}&before=${first.nextCursor}`))).status).toBe(400)
      expect((await get()<{ code: string }>(url('?after=bm9wZQ'))).body).toMatchObject({ code: 'INVALID_CURSOR' })
      const theirs = await getter(env.app, env.globex)<{ code: string }>(url())
      expect(theirs).toEqual({ status: 404, body: expect.objectContaining({ code: 'NOT_FOUND' }) })
      const unknown = await get()<{ code: string }>(`/api/v1/shipments/${crypto.randomUUID()}/timeline`)
      expect(unknown.status).toBe(404)
    })
  })
}
