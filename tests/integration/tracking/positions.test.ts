// GET /devices/:id/positions: keyset pages by event time in both orders with no repeats or gaps
// (even when fixes arrive behind the cursor meanwhile), time ranges, filtered fixes, tenancy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { seeder } from '../api/fixtures.js'
import { insertPositions, markFiltered } from '../../../src/db/positions.js'
import type { Fix } from '../../../src/contracts/payloads.js'
import { getter, trackingEnv, walk, type TrackingEnv } from './setup.js'

interface Position { ts: string, lat: number, filterReason: string | null, speed: number | null, attrs: Record<string, unknown> | null }
interface Page { items: Position[], nextCursor: string | null }

const T0 = Date.parse('2026-03-01T08:00:00.000Z')

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`position history on ${backend.name}`, () => {
    let env: TrackingEnv
    let deviceId: string
    const fix = (tenantId: string, device: string, i: number): Fix =>
      ({ tenantId, deviceId: device, ts: T0 + i * 1000 + (i % 3), receivedAt: T0 + 60_000 + i, lat: 48 + i / 1000, lon: 2, speed: i, attrs: { temp: 4 } })
    const tsOf = (i: number) => new Date(T0 + i * 1000 + (i % 3)).toISOString()
    const good = Array.from({ length: 25 }, (_, i) => i).filter((i) => i !== 3 && i !== 10)

    beforeAll(async () => {
      env = await trackingEnv(backend)
      deviceId = (await seeder(env.db, env.acme.id).device()).id
      await insertPositions(env.db.pool, Array.from({ length: 25 }, (_, i) => fix(env.acme.id, deviceId, i)))
      await markFiltered(env.db.pool, [3, 10].map((i) => ({ deviceId, ts: T0 + i * 1000 + (i % 3), reason: 'gps_jump' })))
    })
    afterAll(async () => { await env?.close() })

    const get = () => getter(env.app, env.acme)
    const url = (q: string) => `/api/v1/devices/${deviceId}/positions?${q}`
    const pages = (q: string, onPage?: (n: number) => Promise<void>) => walk(q, async (cursor) => {
      const p = (await get()<Page>(url(`${q}${cursor ? `&cursor=${cursor}` : ''}`))).body
      await onPage?.(p.items.length)
      return { items: p.items.map((x) => x.ts), next: p.nextCursor }
    })

    it('pages ascending and descending through every good fix exactly once', async () => {
      const asc = await pages('limit=7')
      expect(asc.map((p) => p.length)).toEqual([7, 7, 7, 2])
      expect(asc.flat()).toEqual(good.map(tsOf))
      const desc = await pages('limit=5&order=desc')
      expect(desc.flat()).toEqual(good.map(tsOf).reverse())
      const first = (await get()<Page>(url('limit=1'))).body.items[0]
      // received when it reached the node (the ingestor's stamp), not when its batch was written
      expect(first).toMatchObject({ lat: 48, speed: 0, attrs: { temp: 4 }, filterReason: null, receivedAt: new Date(T0 + 60_000).toISOString() })
    })

    it('a fix stored behind the cursor while paging neither repeats nor shifts what follows', async () => {
      let page = 0
      const seen = await pages('limit=6', async () => {
        // after the first page, a late fix lands before the cursor (offset paging would now repeat one)
        if (page++ === 0) await insertPositions(env.db.pool, [{ ...fix(env.acme.id, deviceId, 1), ts: T0 + 1500 }])
      })
      expect(seen.flat()).toEqual(good.map(tsOf))
    })

    it('shows filtered fixes with their reason only when asked, and honours from/to (inclusive)', async () => {
      const all = (await get()<Page>(url('limit=100&includeFiltered=true'))).body.items
      expect(all).toHaveLength(26)
      expect(all.filter((p) => p.filterReason === 'gps_jump').map((p) => p.ts)).toEqual([tsOf(3), tsOf(10)])
      const range = (await get()<Page>(url(`from=${tsOf(5)}&to=${tsOf(8)}`))).body.items.map((p) => p.ts)
      expect(range).toEqual([5, 6, 7, 8].map(tsOf))
      expect((await get()<{ code: string }>(url(`from=${tsOf(8)}&to=${tsOf(5)}`))).body.code).toBe('INVALID_RANGE')
      expect((await get()<{ code: string }>(url('cursor=Zm9v'))).body.code).toBe('INVALID_CURSOR')
    })

    it('is a 404 for another tenant\'s device, and never returns another tenant\'s rows', async () => {
      expect((await getter(env.app, env.globex)(url(''))).status).toBe(404)
      const theirs = (await seeder(env.db, env.globex.id).device()).id
      // a row of tenant acme filed under globex's device id must not leak into globex's history
      await insertPositions(env.db.pool, [fix(env.acme.id, theirs, 100)])
      const res = await getter(env.app, env.globex)<Page>(`/api/v1/devices/${theirs}/positions`)
      expect(res).toEqual({ status: 200, body: { items: [], nextCursor: null } })
      expect((await get()(`/api/v1/devices/${theirs}/positions`)).status).toBe(404)
    })
  })
}
