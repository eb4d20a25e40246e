// POST /shipments/:id/events: exceptions, proof of delivery and comments with the status changes
// they cause, the events they store (and publish live), the refusals, and the timeline after.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as } from '../../helpers/app.js'
import { seeder, stop, unique } from '../api/fixtures.js'
import { getter, listen, storeEvents, trackingEnv, type TrackingEnv } from './setup.js'

interface Event { id: number, type: string, ts: string, source: string, userId: string | null, shipmentId: string, deviceId: string | null, payload: Record<string, unknown> }
interface Result { shipment: { id: string, status: string, deliveredAt: string | null }, events: Event[] }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`manual shipment events on ${backend.name}`, () => {
    let env: TrackingEnv
    let deviceId: string
    beforeAll(async () => {
      env = await trackingEnv(backend)
      deviceId = (await seeder(env.db, env.acme.id).device()).id
    })
    afterAll(async () => { await env?.close() })
    beforeEach(() => env.changes.clear())

    const post = (id: string, payload: object, role: 'operator' | 'viewer' | 'admin' = 'operator', tenant = () => env.acme) =>
      as(env.app, tenant().tokens[role])({ method: 'POST', url: `/api/v1/shipments/${id}/events`, payload })
    const fresh = async () => {
      const res = await as(env.app, env.acme.tokens.operator)({ method: 'POST', url: '/api/v1/shipments', payload: { reference: unique('m'), deviceId, stops: [stop('Dock', 48, 2)] } })
      env.changes.clear() // creating announced it; the tests look at what the events announce
      return res.json<{ id: string, reference: string, status: string }>()
    }
    const statusOf = async (id: string) => (await getter(env.app, env.acme)<{ status: string, deliveredAt: string | null }>(`/api/v1/shipments/${id}`)).body

    it('an exception moves the shipment to exception, is stored by the user, published live and announced', async () => {
      const s = await fresh()
      const live = listen(env.live, env.acme.id)
      const res = await post(s.id, { type: 'exception', code: 'damaged', note: 'pallet 3 crushed' })
      expect(res.statusCode, res.body).toBe(201)
      const body = res.json<Result>()
      expect(body.shipment).toMatchObject({ id: s.id, status: 'exception' })
      expect(body.events.map((e) => e.type)).toEqual(['exception', 'shipment_status'])
      expect(body.events[0]).toMatchObject({ source: 'user', userId: env.acme.userIds.operator, shipmentId: s.id, deviceId })
      expect(body.events[0]!.payload).toEqual({ reference: s.reference, code: 'damaged', note: 'pallet 3 crushed' })
      expect(body.events[1]!.payload).toEqual({ reference: s.reference, from: 'assigned', to: 'exception' })
      expect((await statusOf(s.id)).status).toBe('exception')
      expect(env.changes.of('shipment')).toEqual([s.id])
      await expect.poll(() => live.frames.length).toBe(2)
      expect(live.frames.map((f) => f.kind === 'event' && f.event.id)).toEqual(body.events.map((e) => e.id))
      live.stop()

      // a second exception is recorded; the status stays, so nothing else is stored or announced
      env.changes.clear()
      const again = (await post(s.id, { type: 'exception', code: 'late_docs' })).json<Result>()
      expect(again.events.map((e) => e.type)).toEqual(['exception'])
      expect(env.changes.changes).toEqual([])
    })

    it('a proof of delivery delivers the shipment at its time; later ones are only recorded', async () => {
      const s = await fresh()
      await post(s.id, { type: 'exception', code: 'refused' })
      const time = new Date(Date.now() - 600_000).toISOString()
      const res = await post(s.id, { type: 'proof_of_delivery', name: 'J. Doe', time, note: 'signed' })
      expect(res.statusCode, res.body).toBe(201)
      const body = res.json<Result>()
      expect(body.shipment).toEqual({ id: s.id, status: 'delivered', deliveredAt: time })
      expect(body.events.map((e) => [e.type, e.ts])).toEqual([['proof_of_delivery', time], ['delivered', time], ['shipment_status', time]])
      expect(body.events.map((e) => e.payload)).toEqual([
        { reference: s.reference, name: 'J. Doe', time, note: 'signed' },
        { reference: s.reference, by: 'proof_of_delivery' },
        { reference: s.reference, from: 'exception', to: 'delivered' },
      ])
      expect(await statusOf(s.id)).toMatchObject({ status: 'delivered', deliveredAt: time })

      const second = (await post(s.id, { type: 'proof_of_delivery', name: 'Gate', time: new Date().toISOString() })).json<Result>()
      expect(second.events.map((e) => e.type)).toEqual(['proof_of_delivery'])
      expect(second.shipment).toMatchObject({ status: 'delivered', deliveredAt: time })
      expect((await post(s.id, { type: 'exception', code: 'x' })).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
      expect((await post(s.id, { type: 'comment', text: 'all good' })).statusCode).toBe(201)

      // event-time order: the delivery (ten minutes ago) comes before the exception recorded just now;
      // device events after the delivery are not part of the trip
      await storeEvents(env.db, [{ tenantId: env.acme.id, type: 'sos', ts: Date.now() + 60_000, source: 'device', deviceId, payload: {} }])
      const timeline = (await getter(env.app, env.acme)<{ items: Event[] }>(`/api/v1/shipments/${s.id}/timeline`)).body.items
      expect(timeline.map((e) => e.type)).toEqual(['proof_of_delivery', 'delivered', 'shipment_status', 'exception', 'shipment_status', 'proof_of_delivery', 'comment'])
    })

    it('comments change nothing; cancelled shipments take comments but no proof of delivery', async () => {
      const s = await fresh()
      const comment = (await post(s.id, { type: 'comment', text: 'driver called' })).json<Result>()
      expect(comment).toMatchObject({ shipment: { status: 'assigned' }, events: [{ type: 'comment', deviceId }] })
      expect(comment.events[0]!.payload).toEqual({ reference: s.reference, text: 'driver called' })
      await as(env.app, env.acme.tokens.operator)({ method: 'POST', url: `/api/v1/shipments/${s.id}/cancel`, payload: {} })
      expect((await post(s.id, { type: 'proof_of_delivery', name: 'x', time: new Date().toISOString() })).json()).toMatchObject({ statusCode: 409, code: 'SHIPMENT_CLOSED' })
      expect((await post(s.id, { type: 'exception', code: 'x' })).statusCode).toBe(409)
      expect((await post(s.id, { type: 'comment', text: 'after the fact' })).statusCode).toBe(201)
    })

    it('refuses viewers, other tenants\' shipments, bad bodies and a delivery time in the future', async () => {
      const s = await fresh()
      expect((await post(s.id, { type: 'comment', text: 'x' }, 'viewer')).statusCode).toBe(403)
      expect((await post(s.id, { type: 'comment', text: 'x' }, 'operator', () => env.globex)).json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' })
      expect((await post(s.id, { type: 'delivered' })).statusCode).toBe(400)
      expect((await post(s.id, { type: 'comment', text: 'x', extra: 1 })).statusCode).toBe(400)
      expect((await post(s.id, { type: 'exception' })).statusCode).toBe(400)
      const future = new Date(Date.now() + 3_600_000).toISOString()
      expect((await post(s.id, { type: 'proof_of_delivery', name: 'x', time: future })).json()).toMatchObject({ statusCode: 400, code: 'INVALID_TIME' })
      expect((await statusOf(s.id)).status).toBe('assigned')
    })
  })
}
