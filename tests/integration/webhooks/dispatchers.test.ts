// The dispatcher on its own, against real databases: two of them on one PostgreSQL database (two
// nodes, each its own pool) deliver every event exactly once, in order per webhook, one request at
// a time per webhook; and a dispatcher stopped with a request in flight makes that delivery due
// again, so the next start delivers it again (at-least-once across a restart).
import { lookup } from 'node:dns/promises'
import { pino } from 'pino'
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, databaseBackends, silentLog } from '../../helpers/databases.js'
import { eventually, postgresAvailable } from '../../helpers/server.js'
import { openDatabase, type Database } from '../../../src/db/database.js'
import { migrate } from '../../../src/db/migrate.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { insertTrackingEvents } from '../../../src/db/tracking-events.js'
import { Metrics } from '../../../src/metrics.js'
import { WebhookDispatcher, type WebhookSettings } from '../../../src/webhooks/dispatcher.js'
import { newWebhookSecret } from '../../../src/webhooks/signature.js'
import { refusedAddress } from '../../../src/webhooks/ssrf.js'
import { Receiver } from './receiver.js'

const settings: WebhookSettings = {
  pollMs: 50, timeoutMs: 5000, concurrency: 4, backoffMinMs: 50, backoffMaxMs: 200, maxAgeS: 3600,
  allowPrivate: true, allowHttp: true, stopGraceMs: 1000,
}

/** A logger whose lines the test can read. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = []
  return { lines, log: pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }) }
}

function dispatcher(db: Database, overrides: Partial<WebhookSettings> = {}, log = silentLog) {
  const metrics = new Metrics({ defaultMetrics: false })
  const d = new WebhookDispatcher({ pool: db.pool, log, metrics, settings: { ...settings, ...overrides } })
  const outcome = async (o: string) => (await metrics.webhookDeliveries.get()).values.find((v) => v.labels.outcome === o)?.value ?? 0
  return { d, metrics, outcome, delivered: () => outcome('delivered') }
}

async function setup(db: Database, receiver: Receiver, slug: string, paths: string[], events: number) {
  const { tenant } = await createTenantWithAdmin(db.prisma, { slug, admin: { email: `admin@${slug}.test`, password: 'a long password' } })
  for (const path of paths) await db.prisma.webhook.create({ data: { tenantId: tenant.id, url: receiver.url(path), secret: newWebhookSecret() } })
  const ids: number[] = []
  for (let i = 0; i < events; i += 50) {
    const stored = await insertTrackingEvents(db.pool, Array.from({ length: Math.min(50, events - i) }, (_, j) => ({
      tenantId: tenant.id, type: 'comment', ts: Date.now(), source: 'rule' as const, payload: { n: i + j },
    })))
    ids.push(...stored.map((e) => e!.id))
  }
  return ids
}

describe.runIf(postgresAvailable())('two dispatchers on one PostgreSQL database', () => {
  let drop: () => Promise<void>
  let a: Database
  let b: Database
  let receiver: Receiver
  beforeAll(async () => {
    const created = await createPostgresDatabase()
    drop = created.drop
    a = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 5, log: silentLog })
    await migrate(a.pool, silentLog)
    b = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 5, log: silentLog })
    receiver = await Receiver.start()
  })
  afterAll(async () => { await receiver?.close(); await a?.close(); await b?.close(); await drop?.() })

  it('deliver every event once, in event order per webhook, one request at a time per webhook (SKIP LOCKED)', async () => {
    const paths = ['/h1', '/h2', '/h3', '/h4', '/h5', '/h6']
    const ids = await setup(a, receiver, 'pair', paths, 200)
    receiver.script = () => ({ status: 200, delayMs: Math.floor(Math.random() * 4) })
    const one = dispatcher(a)
    const two = dispatcher(b)
    one.d.start()
    two.d.start()
    try {
      await eventually(() => receiver.received.length >= paths.length * ids.length, 60_000, 'every delivery')
      await new Promise((r) => setTimeout(r, 300))
    } finally {
      await Promise.all([one.d.stop(), two.d.stop()])
    }
    expect(receiver.received).toHaveLength(paths.length * ids.length)
    for (const path of paths) {
      expect(receiver.eventIds(path), path).toEqual(ids)
      expect(receiver.maxOpen.get(path), path).toBe(1)
    }
    // both did part of the work
    expect(await one.delivered()).toBeGreaterThan(0)
    expect(await two.delivered()).toBeGreaterThan(0)
    expect(await one.delivered() + await two.delivered()).toBe(paths.length * ids.length)
    const { rows } = await a.pool.query<{ status: string, attempts: number, n: number }>('SELECT status, attempts, count(*)::int AS n FROM webhook_deliveries GROUP BY 1, 2')
    expect(rows).toEqual([{ status: 'delivered', attempts: 1, n: paths.length * ids.length }])
  })
})

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`a dispatcher stopped and started again on ${backend.name}`, () => {
    let db: Database
    let receiver: Receiver
    beforeAll(async () => { db = await backend.open(); receiver = await Receiver.start() })
    afterAll(async () => { await receiver?.close(); await db?.close() })

    it('finishes what completes within its grace, makes the rest due again, and delivers it after the restart', async () => {
      const [first, second, third] = await setup(db, receiver, 'restart', ['/slow', '/quick'], 3) as [number, number, number]
      // the first event hangs on /slow, long after the stop's grace; /quick answers within it
      receiver.script = (r) => ({ status: 200, delayMs: r.path === '/slow' && r.body.id === first && r.previous === 0 ? 10_000 : r.path === '/quick' ? 150 : 0 })
      const run = dispatcher(db, { stopGraceMs: 400 })
      run.d.start()
      await eventually(() => receiver.at('/slow').length === 1 && receiver.at('/quick').length === 1, 5000, 'both first requests')
      const stopped = Date.now()
      await run.d.stop()
      expect(Date.now() - stopped).toBeLessThan(2000)
      const state = async (path: string) => (await db.pool.query<{ event_id: number, status: string, attempts: number, due: boolean, last_error: string | null }>(
        `SELECT d.event_id, d.status, d.attempts, d.next_attempt_at <= now() AS due, d.last_error FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE w.url LIKE '%' || $1 ORDER BY d.event_id`, [path])).rows
      // the answer that came within the grace was recorded
      expect((await state('/quick'))[0]).toMatchObject({ event_id: first, status: 'delivered', attempts: 1 })
      // the one still waiting was abandoned: due again at once; the later events waited behind it
      expect(await state('/slow')).toMatchObject([
        { event_id: first, status: 'pending', attempts: 1, due: true, last_error: 'interrupted: the node delivering it stopped' },
        { event_id: second, status: 'pending', attempts: 0 }, { event_id: third, status: 'pending', attempts: 0 },
      ])
      expect(receiver.eventIds('/slow')).toEqual([first])

      const again = dispatcher(db)
      again.d.start()
      try {
        await eventually(() => receiver.at('/slow').length === 4 && receiver.at('/quick').length === 3, 5000, 'the deliveries after the restart')
      } finally { await again.d.stop() }
      expect(receiver.eventIds('/slow')).toEqual([first, first, second, third])
      expect(receiver.eventIds('/quick')).toEqual([first, second, third])
    })

    it('a backlog past WEBHOOK_MAX_AGE_S on a dead endpoint is given up at once: one request, one warn line, every expired delivery failed', async () => {
      const N = 60
      const ids = await setup(db, receiver, 'expired', ['/dead'], N)
      // the outage lasted longer than the maximum age: the whole backlog is past it
      await db.pool.query(`UPDATE webhook_deliveries d SET created_at = now() - interval '2 hours', next_attempt_at = now() - interval '1 hour'
        FROM webhooks w WHERE w.id = d.webhook_id AND w.url LIKE '%/dead'`)
      const { tenant_id: tenantId } = (await db.pool.query<{ tenant_id: string }>(`SELECT tenant_id FROM webhooks WHERE url LIKE '%/dead'`)).rows[0]!
      // and one event stored just now, within the maximum age
      const [fresh] = await insertTrackingEvents(db.pool, [{ tenantId, type: 'comment', ts: Date.now(), source: 'rule', payload: {} }])
      receiver.script = (r) => (r.path === '/dead' ? 500 : 200)
      const { lines, log } = recordingLog()
      const run = dispatcher(db, { maxAgeS: 3600 }, log)
      const rows = async () => (await db.pool.query<{ event_id: number, status: string, attempts: number, last_error: string | null }>(
        `SELECT d.event_id, d.status, d.attempts, d.last_error FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.url LIKE '%/dead' ORDER BY d.event_id`)).rows
      run.d.start()
      try {
        // the fresh delivery is attempted (and retried) normally once the expired ones are out of the way
        await eventually(async () => (await rows()).at(-1)!.attempts >= 2, 5000, 'the fresh delivery retried')
      } finally { await run.d.stop() }
      const all = await rows()
      const expired = all.slice(0, N)
      expect(expired.map((r) => r.event_id)).toEqual(ids)
      expect(expired.every((r) => r.status === 'failed')).toBe(true)
      expect(expired[0]!.attempts).toBe(1)
      expect(expired.slice(1).every((r) => r.attempts === 0 && /^given up after WEBHOOK_MAX_AGE_S/.test(r.last_error ?? ''))).toBe(true)
      expect(all.at(-1)).toMatchObject({ event_id: fresh!.id, status: 'pending' })
      // the expired backlog cost the endpoint one request, not one per event
      expect(receiver.at('/dead').filter((r) => r.body.id !== fresh!.id).length).toBeLessThanOrEqual(2)
      const warnings = lines.filter((l) => l['code'] === 'WEBHOOK_DELIVERY_FAILED')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatchObject({ alsoGivenUp: N - 1, delivery: expect.any(Number) })
      expect(await run.outcome('failed')).toBe(N)
    })

    it('without WEBHOOK_ALLOW_PRIVATE, refuses at delivery a URL on this network, whatever was stored (an address, or a name resolving to one)', async () => {
      // a name this machine resolves to one of its own addresses (the hostname usually does)
      const own = await lookup(hostname(), { all: true }).then((all) => all.every((a) => refusedAddress(a.address)) && all.length > 0, () => false)
      const urls = [receiver.url('/ssrf'), ...own ? [`http://${hostname()}:${receiver.port}/ssrf-by-name`] : []]
      const { tenant } = await createTenantWithAdmin(db.prisma, { slug: 'ssrf', admin: { email: 'admin@ssrf.test', password: 'a long password' } })
      // written past the API's check (as an older row, or a name that resolved elsewhere then would be)
      for (const url of urls) await db.prisma.webhook.create({ data: { tenantId: tenant.id, url, secret: newWebhookSecret() } })
      await insertTrackingEvents(db.pool, [{ tenantId: tenant.id, type: 'comment', ts: Date.now(), source: 'rule', payload: {} }])
      const run = dispatcher(db, { allowPrivate: false, backoffMinMs: 60_000, backoffMaxMs: 60_000 })
      run.d.start()
      const errors = async () => (await db.pool.query<{ last_error: string | null, attempts: number }>(
        'SELECT d.last_error, d.attempts FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE w.tenant_id = $1', [tenant.id])).rows
      try {
        await eventually(async () => (await errors()).every((r) => r.attempts === 1 && r.last_error), 5000, 'the refused attempts')
      } finally { await run.d.stop() }
      const found = await errors()
      expect(found).toHaveLength(urls.length)
      for (const r of found) expect(r.last_error).toMatch(/^WEBHOOK_URL_REFUSED: .*(loopback|private|link-local)/)
      expect(receiver.at('/ssrf')).toEqual([])
      expect(receiver.at('/ssrf-by-name')).toEqual([])
      const health = await db.prisma.webhook.findMany({ where: { tenantId: tenant.id } })
      expect(health.map((w) => w.consecutiveFailures)).toEqual(urls.map(() => 1))
    })
  })
}
