// GET /events: the tenant's event list with filters and keyset paging; nothing of another tenant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { seeder } from '../api/fixtures.js'
import type { NewTrackingEvent } from '../../../src/db/tracking-events.js'
import { getter, storeEvents, trackingEnv, walk, type TrackingEnv } from './setup.js'

interface Item { id: number, type: string, ts: string, shipmentId: string | null, deviceId: string | null }
interface Page { items: Item[], nextCursor: string | null }
const T0 = Date.parse('2026-04-01T00:00:00.000Z')

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`event list on ${backend.name}`, () => {
    let env: TrackingEnv
    let shipmentId: string
    let deviceId: string
    let ids: number[]

    beforeAll(async () => {
      env = await trackingEnv(backend)
      shipmentId = (await seeder(env.db, env.acme.id).shipment()).id
      deviceId = (await seeder(env.db, env.acme.id).device()).id
      const types = ['arrived', 'departed', 'eta_updated', 'late']
      const events: NewTrackingEvent[] = Array.from({ length: 20 }, (_, i) => ({
        tenantId: env.acme.id, type: types[i % 4]!, ts: T0 + Math.floor(i / 2) * 1000, source: 'rule', payload: { i },
        ...(i % 2 === 0 ? { shipmentId } : { deviceId }),
      }))
      ids = (await storeEvents(env.db, events)).map((e) => e.id)
      await storeEvents(env.db, [{ tenantId: env.globex.id, type: 'arrived', ts: T0, source: 'rule', payload: {}, shipmentId }])
    })
    afterAll(async () => { await env?.close() })

    const list = (q: string) => getter(env.app, env.acme)<Page>(`/api/v1/events?${q}`)
    const all = (q: string) => walk(q, async (cursor) => {
      const p = (await list(`${q}${cursor ? `&cursor=${cursor}` : ''}`)).body
      return { items: p.items.map((i) => i.id), next: p.nextCursor }
    })

    it('lists newest first by default, oldest first with order=asc, paging without repeats or gaps', async () => {
      expect((await all('limit=3')).flat()).toEqual([...ids].reverse())
      expect((await all('limit=6&order=asc')).flat()).toEqual(ids)
    })

    it('filters by type list, shipment, device and event time', async () => {
      const types = (await list('type=arrived,late&order=asc')).body.items
      expect(types.map((e) => e.type)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'arrived' : 'late')))
      expect((await list(`shipmentId=${shipmentId}&limit=500`)).body.items).toHaveLength(10)
      expect((await list(`deviceId=${deviceId}`)).body.items.every((e) => e.deviceId === deviceId)).toBe(true)
      const window = (await list(`from=${new Date(T0 + 2000).toISOString()}&to=${new Date(T0 + 3000).toISOString()}&order=asc`)).body.items
      expect(window.map((e) => e.id)).toEqual(ids.slice(4, 8))
    })

    it('takes `types` (the name /stream uses) as well as `type`; with both, events of either list', async () => {
      const byType = (await list('type=arrived,late&order=asc&limit=500')).body.items.map((e) => e.id)
      expect(byType).toHaveLength(10)
      expect((await list('types=arrived,late&order=asc&limit=500')).body.items.map((e) => e.id)).toEqual(byType)
      expect((await list('type=arrived&types=late&order=asc&limit=500')).body.items.map((e) => e.id)).toEqual(byType)
      expect((await list('types=Bad-Type')).status).toBe(400)
    })

    it('shows each tenant only its own events', async () => {
      const theirs = (await getter(env.app, env.globex)<Page>('/api/v1/events')).body.items
      expect(theirs).toHaveLength(1)
      expect((await all('limit=500')).flat()).not.toContain(theirs[0]!.id)
      expect((await list('type=Bad-Type')).status).toBe(400)
    })
  })
}
