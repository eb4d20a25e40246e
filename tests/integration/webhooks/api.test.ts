// The webhook API (who may do what, secrets shown once, the URL rules, tenant isolation, the
// deliveries list and retry) and the outbox: every path that stores tracking events also stores
// their deliveries, for the tenant's enabled webhooks whose types match, and for nothing else.
// No dispatcher runs here: deliveries stay as their writers left them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { insertTrackingEvents } from '../../../src/db/tracking-events.js'
import { WEBHOOKS_PER_TENANT } from '../../../src/api/routes/webhooks/index.js'
import { leaseMsFor } from '../../../src/webhooks/store.js'
import { stop, unique } from '../api/fixtures.js'

interface Webhook { id: string, url: string, eventTypes: string[], enabled: boolean, description: string, health: { consecutiveFailures: number, lastError: string | null } }
interface Delivery { id: number, eventId: number, eventType: string, status: string, attempts: number, nextAttemptAt: string | null }
interface DeliveryPage { items: Delivery[], nextCursor: string | null }

const PUBLIC = 'https://93.184.215.14/hooks/retrack'

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`webhook API and outbox on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let globex: TestTenant
    let WEBHOOK_TIMEOUT_MS: number

    beforeAll(async () => {
      db = await backend.open()
      const built = await testApp(db) // default settings: WEBHOOK_ALLOW_PRIVATE and WEBHOOK_ALLOW_HTTP false
      app = built.app
      WEBHOOK_TIMEOUT_MS = built.ctx.config.WEBHOOK_TIMEOUT_MS
      acme = await seedTenant(app, db, 'acme')
      globex = await seedTenant(app, db, 'globex')
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    const call = (t: TestTenant, role: 'admin' | 'operator' | 'viewer', method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      as(app, t.tokens[role])({ method, url: `/api/v1/webhooks${url}`, ...(payload ? { payload } : {}) })
    const create = async (t: TestTenant, body: object) => {
      const res = await call(t, 'admin', 'POST', '', { url: PUBLIC, ...body })
      expect(res.statusCode, res.body).toBe(201)
      return res.json<{ webhook: Webhook, secret: string }>()
    }
    /** deliveries stored for a webhook: [event type, status] in event order */
    const deliveriesOf = async (webhookId: string) => (await db.pool.query<{ type: string, status: string }>(
      'SELECT e.type, d.status FROM webhook_deliveries d JOIN tracking_events e ON e.id = d.event_id WHERE d.webhook_id = $1 ORDER BY d.event_id', [webhookId])).rows.map((r) => r.type)

    it('an admin creates a webhook and gets its secret once; every role reads it, never its secret', async () => {
      const { webhook, secret } = await create(acme, { eventTypes: ['arrived', 'delivered'], description: 'ERP' })
      expect(secret).toMatch(/^whsec_/)
      expect(webhook).toMatchObject({ url: PUBLIC, eventTypes: ['arrived', 'delivered'], enabled: true, description: 'ERP', health: { consecutiveFailures: 0, lastError: null } })
      for (const role of ['admin', 'operator', 'viewer'] as const) {
        const one = await call(acme, role, 'GET', `/${webhook.id}`)
        const list = await call(acme, role, 'GET', '')
        expect(one.statusCode).toBe(200)
        expect(list.json<{ items: Webhook[] }>().items.map((w) => w.id)).toContain(webhook.id)
        for (const res of [one, list]) {
          expect(res.body).not.toContain(secret)
          expect(res.body).not.toContain('"secret"')
        }
      }
      const rotated = await call(acme, 'admin', 'POST', `/${webhook.id}/rotate-secret`)
      expect(rotated.statusCode).toBe(200)
      const next = rotated.json<{ secret: string }>().secret
      expect(next).not.toBe(secret)
      expect((await db.prisma.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).secret).toBe(next)
    })

    it('operators and viewers cannot create, change, rotate or delete one; devices cannot even read', async () => {
      const { webhook } = await create(acme, {})
      for (const role of ['operator', 'viewer'] as const) {
        expect((await call(acme, role, 'POST', '', { url: PUBLIC })).statusCode).toBe(403)
        expect((await call(acme, role, 'PATCH', `/${webhook.id}`, { enabled: false })).statusCode).toBe(403)
        expect((await call(acme, role, 'POST', `/${webhook.id}/rotate-secret`)).statusCode).toBe(403)
        expect((await call(acme, role, 'DELETE', `/${webhook.id}`)).statusCode).toBe(403)
      }
      const device = await as(app, acme.tokens.admin)({ method: 'POST', url: '/api/v1/devices', payload: { name: 'tracker' } })
      const token = await as(app, acme.tokens.admin)({ method: 'POST', url: `/api/v1/devices/${device.json<{ device: { id: string } }>().device.id}/token` })
      const res = await as(app, token.json<{ token: string }>().token)({ method: 'GET', url: '/api/v1/webhooks' })
      expect(res.statusCode).toBe(403)
      expect((await db.prisma.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).enabled).toBe(true)
    })

    it('refuses URLs on this network, of its cloud metadata service, and plain http, on create and on change', async () => {
      const before = await db.prisma.webhook.count()
      const { webhook } = await create(acme, {})
      for (const url of ['https://127.0.0.1/hook', 'https://10.0.0.1/hook', 'https://169.254.169.254/latest/meta-data/', 'https://[::1]:8443/hook',
        'https://[::ffff:10.0.0.1]/', 'https://localhost/hook', 'http://93.184.215.14/hook', 'gopher://93.184.215.14/']) {
        for (const res of [await call(acme, 'admin', 'POST', '', { url }), await call(acme, 'admin', 'PATCH', `/${webhook.id}`, { url })]) {
          expect(res.statusCode, `${url}: ${res.body}`).toBe(400)
          expect(res.json<{ code: string }>().code).toBe('WEBHOOK_URL_REFUSED')
        }
      }
      expect(await db.prisma.webhook.count()).toBe(before + 1)
      expect((await db.prisma.webhook.findUniqueOrThrow({ where: { id: webhook.id } })).url).toBe(PUBLIC)
    })

    it('another tenant\'s webhook is a 404 everywhere, and not in its list', async () => {
      const { webhook } = await create(acme, {})
      const id = webhook.id
      for (const [method, url, payload] of [['GET', `/${id}`], ['PATCH', `/${id}`, { enabled: false }], ['POST', `/${id}/rotate-secret`], ['DELETE', `/${id}`],
        ['GET', `/${id}/deliveries`], ['POST', `/${id}/deliveries/1/retry`]] as const) {
        const res = await call(globex, 'admin', method, url, payload)
        expect(res.statusCode, `${method} ${url}`).toBe(404)
      }
      expect((await call(globex, 'admin', 'GET', '')).json<{ items: Webhook[] }>().items.map((w) => w.id)).not.toContain(id)
      expect(await db.prisma.webhook.findUniqueOrThrow({ where: { id } })).toMatchObject({ enabled: true, tenantId: acme.id })
    })

    it('changes, disables and deletes a webhook (its deliveries with it)', async () => {
      const { webhook } = await create(acme, {})
      const patched = await call(acme, 'admin', 'PATCH', `/${webhook.id}`, { url: 'https://93.184.215.14:8443/other?x=1', eventTypes: ['comment'], enabled: false, description: 'off' })
      expect(patched.json<Webhook>()).toMatchObject({ url: 'https://93.184.215.14:8443/other?x=1', eventTypes: ['comment'], enabled: false, description: 'off' })
      expect((await call(acme, 'admin', 'DELETE', `/${webhook.id}`)).statusCode).toBe(204)
      expect((await call(acme, 'admin', 'GET', `/${webhook.id}`)).statusCode).toBe(404)
    })

    it(`a tenant has at most ${WEBHOOKS_PER_TENANT} webhooks`, async () => {
      const t = await seedTenant(app, db, unique('many'))
      for (let i = 0; i < WEBHOOKS_PER_TENANT; i++) await create(t, {})
      const res = await call(t, 'admin', 'POST', '', { url: PUBLIC })
      expect(res.statusCode).toBe(409)
      expect(res.json<{ code: string }>().code).toBe('WEBHOOK_LIMIT')
    })

    it(`parallel creates cannot pass the limit of ${WEBHOOKS_PER_TENANT}`, async () => {
      const t = await seedTenant(app, db, unique('race'))
      const results = await Promise.all(Array.from({ length: WEBHOOKS_PER_TENANT + 5 }, () => call(t, 'admin', 'POST', '', { url: PUBLIC })))
      const codes = results.map((r) => r.statusCode)
      expect(codes.filter((c) => c === 201)).toHaveLength(WEBHOOKS_PER_TENANT)
      expect(codes.filter((c) => c === 409)).toHaveLength(5)
      for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json<{ code: string }>().code).toBe('WEBHOOK_LIMIT')
      expect(await db.prisma.webhook.count({ where: { tenantId: t.id } })).toBe(WEBHOOKS_PER_TENANT)
    })

    it('shows the URL\'s query string to admins only', async () => {
      const { webhook } = await create(acme, { url: 'https://93.184.215.14/hooks/in?token=s3cr3t&x=1' })
      expect(webhook.url).toBe('https://93.184.215.14/hooks/in?token=s3cr3t&x=1')
      expect((await call(acme, 'admin', 'GET', `/${webhook.id}`)).json<Webhook>().url).toBe('https://93.184.215.14/hooks/in?token=s3cr3t&x=1')
      for (const role of ['operator', 'viewer'] as const) {
        const one = await call(acme, role, 'GET', `/${webhook.id}`)
        const list = await call(acme, role, 'GET', '?limit=100')
        expect(one.json<Webhook>().url).toBe('https://93.184.215.14/hooks/in?…')
        expect(list.json<{ items: Webhook[] }>().items.find((w) => w.id === webhook.id)!.url).toBe('https://93.184.215.14/hooks/in?…')
        for (const res of [one, list]) expect(res.body).not.toContain('s3cr3t')
      }
      await call(acme, 'admin', 'DELETE', `/${webhook.id}`)
    })

    describe('the outbox', () => {
      let all: string, comments: string, disabled: string, theirs: string
      beforeAll(async () => {
        await db.pool.query('DELETE FROM webhooks')
        all = (await create(acme, {})).webhook.id
        comments = (await create(acme, { eventTypes: ['comment'] })).webhook.id
        disabled = (await create(acme, { enabled: false })).webhook.id
        theirs = (await create(globex, {})).webhook.id
      })

      it('the ingestion path stores deliveries in its INSERT: matching enabled webhooks of the event\'s tenant, inserted events only', async () => {
        const e = (tenantId: string, type: string, dedupeKey?: string) => ({ tenantId, type, ts: Date.now(), source: 'rule' as const, payload: {}, ...(dedupeKey ? { dedupeKey } : {}) })
        const stored = await insertTrackingEvents(db.pool, [e(acme.id, 'arrived', 'k1'), e(acme.id, 'comment'), e(globex.id, 'departed')])
        expect(stored.every((s) => s !== null)).toBe(true)
        // the same event again (a redelivery, a second node): not stored, so no second delivery
        expect(await insertTrackingEvents(db.pool, [e(acme.id, 'arrived', 'k1')])).toEqual([null])
        expect(await deliveriesOf(all)).toEqual(['arrived', 'comment'])
        expect(await deliveriesOf(comments)).toEqual(['comment'])
        expect(await deliveriesOf(disabled)).toEqual([])
        expect(await deliveriesOf(theirs)).toEqual(['departed'])
      })

      it('the API\'s event writers (manual events, cancel, skip) add deliveries in their transaction', async () => {
        await db.pool.query('DELETE FROM webhook_deliveries')
        const op = as(app, acme.tokens.operator)
        const make = async () => (await op({ method: 'POST', url: '/api/v1/shipments', payload: { reference: unique('w'), stops: [stop('A', 48, 2), stop('B', 48.5, 2.5)] } }))
          .json<{ id: string, stops: Array<{ id: string }> }>()
        const s = await make()
        expect((await op({ method: 'POST', url: `/api/v1/shipments/${s.id}/events`, payload: { type: 'comment', text: 'hello' } })).statusCode).toBe(201)
        expect((await op({ method: 'POST', url: `/api/v1/shipments/${s.id}/events`, payload: { type: 'exception', code: 'damaged' } })).statusCode).toBe(201)
        const other = await make()
        expect((await op({ method: 'POST', url: `/api/v1/shipments/${other.id}/stops/${other.stops[0]!.id}/skip` })).statusCode).toBe(200)
        expect((await op({ method: 'POST', url: `/api/v1/shipments/${other.id}/cancel`, payload: { reason: 'test' } })).statusCode).toBe(200)
        expect(await deliveriesOf(all)).toEqual(['comment', 'exception', 'shipment_status', 'stop_skipped', 'shipment_cancelled', 'shipment_status'])
        expect(await deliveriesOf(comments)).toEqual(['comment'])
        expect(await deliveriesOf(disabled)).toEqual([])
        expect(await deliveriesOf(theirs)).toEqual([])
      })

      it('lists a webhook\'s deliveries newest first, by status, page by page; a failed one can be retried', async () => {
        await db.pool.query('DELETE FROM webhook_deliveries')
        const events = await insertTrackingEvents(db.pool, Array.from({ length: 5 }, (_, i) => ({ tenantId: acme.id, type: `t${i}`, ts: Date.now(), source: 'rule' as const, payload: {} })))
        const ids = events.map((e) => e!.id)
        await db.pool.query(`UPDATE webhook_deliveries SET status = 'failed', last_error = 'HTTP 500' WHERE webhook_id = $1 AND event_id = ANY($2::int8[])`, [all, [ids[1], ids[3]]])
        const page = async (query: string) => {
          const res = await call(acme, 'viewer', 'GET', `/${all}/deliveries${query}`)
          expect(res.statusCode, res.body).toBe(200)
          return res.json<DeliveryPage>()
        }
        const first = await page('?limit=2')
        expect(first.items.map((d) => d.eventId)).toEqual([ids[4], ids[3]])
        const second = await page(`?limit=2&cursor=${first.nextCursor}`)
        const third = await page(`?limit=2&cursor=${second.nextCursor}`)
        expect([...second.items, ...third.items].map((d) => d.eventId)).toEqual([ids[2], ids[1], ids[0]])
        expect(third.nextCursor).toBeNull()
        expect(first.items[0]).toMatchObject({ eventType: 't4', status: 'pending', attempts: 0 })
        expect(first.items[0]!.nextAttemptAt).not.toBeNull()
        const failed = (await page('?status=failed')).items
        expect(failed.map((d) => [d.eventId, d.status, d.nextAttemptAt])).toEqual([[ids[3], 'failed', null], [ids[1], 'failed', null]])
        expect((await call(acme, 'viewer', 'GET', `/${all}/deliveries?cursor=bm9wZQ`)).json<{ code: string }>().code).toBe('INVALID_CURSOR')

        const retry = (id: number, role: 'admin' | 'operator' = 'admin') => call(acme, role, 'POST', `/${all}/deliveries/${id}/retry`)
        expect((await retry(failed[0]!.id, 'operator')).statusCode).toBe(403)
        const retried = await retry(failed[0]!.id)
        expect(retried.statusCode, retried.body).toBe(200)
        expect(retried.json<Delivery>()).toMatchObject({ id: failed[0]!.id, status: 'pending' })
        // now pending and due: retried again, it stays as it is
        expect((await retry(failed[0]!.id)).json<Delivery>()).toMatchObject({ id: failed[0]!.id, status: 'pending' })
        await db.pool.query(`UPDATE webhook_deliveries SET status = 'delivered' WHERE webhook_id = $1 AND event_id = $2`, [all, ids[0]])
        const delivered = (await page('')).items.find((d) => d.eventId === ids[0])!
        expect((await retry(delivered.id)).json<{ statusCode: number, code: string }>()).toMatchObject({ statusCode: 409, code: 'DELIVERY_NOT_FAILED' })
        expect((await retry(999_999_999)).statusCode).toBe(404)
        expect((await page('?status=failed')).items.map((d) => d.eventId)).toEqual([ids[1]])
      })

      /** deliveries of `all`: event id → [due now, attempts] */
      const dueness = async () => new Map((await db.pool.query<{ event_id: string, due: boolean }>(
        'SELECT event_id, next_attempt_at <= now() AS due FROM webhook_deliveries WHERE webhook_id = $1', [all])).rows.map((r) => [Number(r.event_id), r.due]))
      const backOff = (eventIds: number[], leased = false) => db.pool.query(
        `UPDATE webhook_deliveries SET attempts = 3, last_error = 'HTTP 503', last_attempt_at = now() - interval '1 second',
           next_attempt_at = ${leased ? `now() - interval '1 second' + $3::int8 * interval '1 millisecond'` : `now() + interval '50 minutes'`}
         WHERE webhook_id = $1 AND event_id = ANY($2::int8[])`, [all, eventIds, ...leased ? [leaseMsFor(WEBHOOK_TIMEOUT_MS)] : []])

      it('a pending delivery waiting for its backoff, retried, is due now; one being attempted (leased) is left as it is', async () => {
        await db.pool.query('DELETE FROM webhook_deliveries')
        const ids = (await insertTrackingEvents(db.pool, [0, 1].map((i) => ({ tenantId: acme.id, type: `r${i}`, ts: Date.now(), source: 'rule' as const, payload: {} })))).map((e) => e!.id)
        await backOff([ids[0]!])
        await backOff([ids[1]!], true)
        const items = (await call(acme, 'viewer', 'GET', `/${all}/deliveries`)).json<DeliveryPage>().items
        const byEvent = (id: number) => items.find((d) => d.eventId === id)!
        const waiting = await call(acme, 'admin', 'POST', `/${all}/deliveries/${byEvent(ids[0]!).id}/retry`)
        expect(waiting.statusCode, waiting.body).toBe(200)
        expect(waiting.json<Delivery>()).toMatchObject({ status: 'pending', attempts: 3 })
        expect(Date.parse(waiting.json<Delivery>().nextAttemptAt!)).toBeLessThanOrEqual(Date.now() + 1000)
        const leased = await call(acme, 'admin', 'POST', `/${all}/deliveries/${byEvent(ids[1]!).id}/retry`)
        expect(leased.statusCode, leased.body).toBe(200)
        expect(await dueness()).toEqual(new Map([[ids[0]!, true], [ids[1]!, false]]))
        // another tenant's admin cannot touch it
        await backOff([ids[0]!])
        expect((await call(globex, 'admin', 'POST', `/${all}/deliveries/${byEvent(ids[0]!).id}/retry`)).statusCode).toBe(404)
        expect((await dueness()).get(ids[0]!)).toBe(false)
      })

      it('enabling a webhook again, or changing its URL, makes its pending head due now (not the later ones; not a leased head)', async () => {
        await db.pool.query('DELETE FROM webhook_deliveries')
        const ids = (await insertTrackingEvents(db.pool, [0, 1].map((i) => ({ tenantId: acme.id, type: `p${i}`, ts: Date.now(), source: 'rule' as const, payload: {} })))).map((e) => e!.id)
        const patch = async (body: object) => expect((await call(acme, 'admin', 'PATCH', `/${all}`, body)).statusCode).toBe(200)
        await backOff(ids)
        await patch({ description: 'unrelated' })
        expect(await dueness()).toEqual(new Map([[ids[0]!, false], [ids[1]!, false]]))
        await patch({ enabled: false })
        await patch({ enabled: true })
        expect(await dueness()).toEqual(new Map([[ids[0]!, true], [ids[1]!, false]]))
        await backOff(ids)
        await patch({ url: 'https://93.184.215.14/hooks/moved' })
        expect(await dueness()).toEqual(new Map([[ids[0]!, true], [ids[1]!, false]]))
        await backOff([ids[0]!], true)
        await patch({ url: PUBLIC })
        expect((await dueness()).get(ids[0]!)).toBe(false)
      })
    })

    it('the OpenAPI description has the webhook routes, and the secret only in the create / rotate answer', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> }>()
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/api/v1/webhooks')).sort()).toEqual([
        '/api/v1/webhooks', '/api/v1/webhooks/{id}', '/api/v1/webhooks/{id}/deliveries', '/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry', '/api/v1/webhooks/{id}/rotate-secret',
      ])
      const props = (path: string, method: string, code: string) => Object.keys(doc.paths[path]![method]!.responses[code]!.content!['application/json']!.schema.properties ?? {})
      expect(props('/api/v1/webhooks/{id}', 'get', '200')).not.toContain('secret')
      expect(props('/api/v1/webhooks', 'post', '201')).toEqual(['webhook', 'secret'])
    })
  })
}
