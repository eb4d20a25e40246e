// Retention (src/db/retention.ts) on a real database: positions and dead letters older than their
// cutoff go, of every tenant (dead letters without one too), newer rows and every tracking event
// stay; deletion loops chunk by chunk and page by page of devices; 0 keeps a table forever; stop()
// ends a sweep after its current chunk; a failing sweep warns with a code and runs again; and on
// PostgreSQL two nodes never sweep at once (an advisory lock).
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../../src/db/database.js'
import { migrate } from '../../../src/db/migrate.js'
import { Metrics } from '../../../src/metrics.js'
import { RETENTION_SWEEP_FAILED, RetentionSweeper, deleteOldDeadLetters, deleteOldPositions, type RetentionSettings } from '../../../src/db/retention.js'
import { createPostgresDatabase, databaseBackends, silentLog } from '../../helpers/databases.js'

const DAY_MS = 86_400_000

/** A logger whose lines the test can read. */
function recordingLog() {
  const lines: Array<Record<string, unknown>> = []
  return { lines, log: pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } }) }
}

/** Resolves when `check` holds (polled), or fails after `ms`. */
async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A promise and the function that resolves it. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((r) => { open = r })
  return { opened, open }
}

async function addPositions(db: Database, tenantId: string, deviceId: string, daysAgo: number, count: number) {
  await db.pool.query(`
    INSERT INTO positions (tenant_id, device_id, ts, lat, lon)
    SELECT $1, $2, now() - make_interval(days => $3) - make_interval(secs => i), 48, 2 FROM generate_series(1, $4) i`, [tenantId, deviceId, daysAgo, count])
}

async function addDeadLetters(db: Database, tenantId: string | null, daysAgo: number, count: number) {
  await db.pool.query(`
    INSERT INTO dead_letters (tenant_id, device_id, topic, code, reason, payload, received_at)
    SELECT $1, 'dl-device', 't', 'BAD_JSON', 'r', '\\x00'::bytea, now() - make_interval(days => $2) - make_interval(secs => i) FROM generate_series(1, $3) i`,
  [tenantId, daysAgo, count])
}

async function addEvents(db: Database, tenantId: string, daysAgo: number, count: number) {
  await db.pool.query(`
    INSERT INTO tracking_events (tenant_id, type, ts, created_at, source, device_id)
    SELECT $1, 'stop_arrived', now() - make_interval(days => $2), now() - make_interval(days => $2), 'rule', 'ev-device' FROM generate_series(1, $3)`,
  [tenantId, daysAgo, count])
}

const count = async (db: Database, sql: string, values: unknown[] = []) => Number((await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values)).rows[0]!.n)
const deletedMetric = async (metrics: Metrics, table: string) => (await metrics.retentionDeleted.get()).values.find((v) => v.labels['table'] === table)?.value ?? 0

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`retention on ${backend.name}`, () => {
    let db: Database
    let a: string
    let b: string
    const sweepers: RetentionSweeper[] = []

    const sweeper = (settings: Partial<RetentionSettings>, log = silentLog, metrics = new Metrics({ defaultMetrics: false })) => {
      const s = new RetentionSweeper(db, { positionsDays: 30, deadLettersDays: 30, webhookDeliveriesDays: 30, everyS: 3600, firstAfterMs: 0, ...settings }, log, metrics)
      sweepers.push(s)
      return s
    }

    beforeAll(async () => {
      db = await backend.open()
      a = (await db.prisma.tenant.create({ data: { slug: 'retention-a', name: 'A' } })).id
      b = (await db.prisma.tenant.create({ data: { slug: 'retention-b', name: 'B' } })).id
      await db.prisma.device.create({ data: { id: 'ret-a1', tenantId: a, name: 'a1', secretHash: 'h' } })
    })
    afterAll(async () => { await db?.close() })
    beforeEach(async () => { await db.pool.query('TRUNCATE positions, dead_letters, tracking_events') })
    afterEach(async () => { await Promise.all(sweepers.splice(0).map((s) => s.stop())) })

    it('deletes positions and dead letters older than their cutoff, of every tenant; keeps newer ones and every tracking event', async () => {
      await addPositions(db, a, 'ret-a1', 40, 10) // a device that exists
      await addPositions(db, a, 'ret-a1', 20, 4)
      await addPositions(db, a, 'ret-gone', 100, 6) // a device since deleted: its history goes too
      await addPositions(db, b, 'ret-b1', 31, 7)
      await addPositions(db, b, 'ret-b1', 1, 3)
      await addDeadLetters(db, a, 45, 5)
      await addDeadLetters(db, b, 45, 2)
      await addDeadLetters(db, null, 45, 3) // refused before any tenant was known
      await addDeadLetters(db, a, 10, 2)
      await addDeadLetters(db, null, 10, 1)
      await addEvents(db, a, 400, 3)
      await addEvents(db, b, 40, 2)
      const metrics = new Metrics({ defaultMetrics: false })
      const { lines, log } = recordingLog()

      const result = await sweeper({}, log, metrics).sweep()

      expect(result).toEqual({ deleted: { positions: 23, dead_letters: 10, webhook_deliveries: 0 }, complete: true })
      expect(await count(db, 'positions WHERE tenant_id = $1', [a])).toBe(4)
      expect(await count(db, 'positions WHERE tenant_id = $1', [b])).toBe(3)
      expect(await count(db, 'positions WHERE ts < now() - interval \'30 days\'')).toBe(0)
      expect(await count(db, 'dead_letters WHERE tenant_id = $1', [a])).toBe(2)
      expect(await count(db, 'dead_letters WHERE tenant_id = $1', [b])).toBe(0)
      expect(await count(db, 'dead_letters WHERE tenant_id IS NULL')).toBe(1)
      expect(await count(db, 'tracking_events')).toBe(5)
      expect(await deletedMetric(metrics, 'positions')).toBe(23)
      expect(await deletedMetric(metrics, 'dead_letters')).toBe(10)
      expect((await metrics.retentionLastSuccess.get()).values[0]?.value).toBeGreaterThan(Date.now() / 1000 - 60)
      const info = lines.filter((l) => l['msg'] === 'retention: old rows deleted')
      expect(info.map((l) => [l['table'], l['rows']])).toEqual([['positions', 23], ['dead_letters', 10]])
      expect(info.every((l) => typeof l['ms'] === 'number')).toBe(true)

      // nothing left to delete: a sweep that deletes nothing says nothing
      expect(await sweeper({}, log, metrics).sweep()).toEqual({ deleted: { positions: 0, dead_letters: 0, webhook_deliveries: 0 }, complete: true })
      expect(lines.filter((l) => l['msg'] === 'retention: old rows deleted')).toHaveLength(2)
    })

    it('deletes webhook deliveries delivered or given up before the cutoff; a pending one stays however old', async () => {
      const webhook = (await db.pool.query<{ id: string }>(
        `INSERT INTO webhooks (tenant_id, url, secret) VALUES ($1, 'https://93.184.215.14/hook', 's') RETURNING id`, [a])).rows[0]!.id
      await addEvents(db, a, 40, 1)
      const event = (await db.pool.query<{ id: string }>('SELECT max(id)::text AS id FROM tracking_events')).rows[0]!.id
      const delivery = async (status: string, daysAgo: number, n: number) => {
        for (let i = 0; i < n; i++) {
          await db.pool.query(`INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, status, created_at)
            VALUES ($1, $2, $3::bigint + $4, $5::"WebhookDeliveryStatus", now() - make_interval(days => $6))`, [a, webhook, event, `${status}${daysAgo}`.length * 1000 + i, status, daysAgo])
        }
      }
      await delivery('delivered', 40, 4)
      await delivery('failed', 45, 2)
      await delivery('pending', 50, 3)
      await delivery('delivered', 5, 2)
      const result = await sweeper({ chunk: 2 }).sweep()
      expect(result?.deleted).toEqual({ positions: 0, dead_letters: 0, webhook_deliveries: 6 })
      expect(await count(db, 'webhook_deliveries WHERE status = \'pending\'')).toBe(3)
      expect(await count(db, 'webhook_deliveries WHERE status = \'delivered\'')).toBe(2)
      expect((await sweeper({ webhookDeliveriesDays: 0 }).sweep())?.deleted.webhook_deliveries).toBe(0)
      await db.pool.query('DELETE FROM webhooks WHERE id = $1', [webhook])
    })

    it('loops chunk after chunk, and page after page of devices', async () => {
      await addPositions(db, a, 'ret-a1', 40, 23)
      await addPositions(db, a, 'ret-a1', 1, 2)
      await addDeadLetters(db, a, 40, 12)
      let pauses = 0
      const result = await sweeper({ chunk: 5, between: () => { pauses++; return Promise.resolve() } }).sweep()
      expect(result?.deleted).toEqual({ positions: 23, dead_letters: 12, webhook_deliveries: 0 })
      expect(pauses).toBe(4 + 2) // after each full chunk: 5+5+5+5 (then 3), 5+5 (then 2)
      expect(await count(db, 'positions')).toBe(2)

      // 7 devices (old and new rows interleaved in the key order), 3 device ids per page
      for (let i = 0; i < 7; i++) {
        await addPositions(db, i % 2 ? b : a, `ret-page-${i}`, 40, 2)
        await addPositions(db, i % 2 ? b : a, `ret-page-${i}`, 1, 1)
      }
      const deleted = await deleteOldPositions(db.pool, new Date(Date.now() - 30 * DAY_MS), { chunk: 1, devicesPerPage: 3 })
      expect(deleted).toBe(14)
      expect(await count(db, 'positions WHERE device_id LIKE \'ret-page-%\'')).toBe(7)
    })

    it('0 keeps a table forever; with every one at 0 the sweeper is disabled', async () => {
      await addPositions(db, a, 'ret-a1', 4000, 3)
      await addDeadLetters(db, a, 4000, 3)
      expect((await sweeper({ positionsDays: 0 }).sweep())?.deleted).toEqual({ positions: 0, dead_letters: 3, webhook_deliveries: 0 })
      expect(await count(db, 'positions')).toBe(3)
      await addDeadLetters(db, a, 4000, 3)
      expect((await sweeper({ deadLettersDays: 0 }).sweep())?.deleted).toEqual({ positions: 3, dead_letters: 0, webhook_deliveries: 0 })
      expect(await count(db, 'dead_letters')).toBe(3)

      const off = sweeper({ positionsDays: 0, deadLettersDays: 0, webhookDeliveriesDays: 0, everyS: 0.01 })
      expect(off.enabled).toBe(false)
      off.start() // schedules nothing
      await addPositions(db, a, 'ret-a1', 4000, 3)
      await new Promise((r) => setTimeout(r, 100))
      expect(await count(db, 'positions')).toBe(3)
      expect(await count(db, 'dead_letters')).toBe(3)
    })

    it('stop() during a sweep lets the current chunk finish, stops there, and schedules no other', async () => {
      await addPositions(db, a, 'ret-a1', 40, 50)
      await addDeadLetters(db, a, 40, 5)
      let stopping: Promise<void> | undefined
      let stoppedEarly: boolean | undefined
      const s = sweeper({ chunk: 5, everyS: 0.05, between: async () => {
        if (stopping) return
        let stopped = false
        stopping = s.stop().then(() => { stopped = true }) // between two chunks: the sweep is under way
        await new Promise((r) => setTimeout(r, 50))
        stoppedEarly = stopped
      } })
      s.start()
      await until(() => stopping !== undefined)
      await stopping
      expect(stoppedEarly).toBe(false) // stop() waited for the sweep
      expect(await count(db, 'positions')).toBe(45) // one chunk
      expect(await count(db, 'dead_letters')).toBe(5) // never reached
      await new Promise((r) => setTimeout(r, 200)) // several intervals: no other sweep
      expect(await count(db, 'positions')).toBe(45)
    })

    it('sweeps shortly after start(); a failing sweep warns with a code and the next interval tries again', async () => {
      await addDeadLetters(db, null, 40, 4)
      await db.pool.query('ALTER TABLE dead_letters RENAME TO dead_letters_away')
      const { lines, log } = recordingLog()
      try {
        sweeper({ positionsDays: 0, everyS: 0.2, firstAfterMs: 10 }, log).start()
        await until(() => lines.some((l) => l['code'] === RETENTION_SWEEP_FAILED))
      } finally {
        await db.pool.query('ALTER TABLE dead_letters_away RENAME TO dead_letters')
      }
      const warning = lines.find((l) => l['code'] === RETENTION_SWEEP_FAILED)!
      expect(warning['level']).toBe(40) // warn
      expect((warning['err'] as { message: string }).message).toMatch(/deleting old dead_letters failed/)
      await until(async () => await count(db, 'dead_letters') === 0)
      expect(lines.some((l) => l['msg'] === 'retention: old rows deleted' && l['table'] === 'dead_letters' && l['rows'] === 4)).toBe(true)
    })
  })
}

const postgres = databaseBackends().find((backend) => backend.name === 'postgres')!

describe.runIf(postgres.available)('retention on two PostgreSQL nodes at once', () => {
  let one: Database
  let two: Database
  let drop: () => Promise<void>
  let tenantId: string

  beforeAll(async () => {
    const created = await createPostgresDatabase()
    drop = created.drop
    one = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 2, log: silentLog })
    two = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 2, log: silentLog })
    await migrate(one.pool, silentLog)
    tenantId = (await one.prisma.tenant.create({ data: { slug: 'retention-nodes', name: 'N' } })).id
  })
  afterAll(async () => { await one?.close(); await two?.close(); await drop?.() })

  it('only one sweeps: the other skips that round while the lock is held, and sweeps once it is free', async () => {
    await addPositions(one, tenantId, 'ret-n1', 40, 20)
    const reached = gate()
    const release = gate()
    let pauses = 0
    const settings = { positionsDays: 30, deadLettersDays: 30, webhookDeliveriesDays: 30, everyS: 3600, chunk: 5 }
    const first = new RetentionSweeper(one, { ...settings, between: async () => { if (pauses++ === 0) { reached.open(); await release.opened } } }, silentLog, new Metrics({ defaultMetrics: false }))
    const { lines, log } = recordingLog()
    const second = new RetentionSweeper(two, settings, log, new Metrics({ defaultMetrics: false }))

    const sweeping = first.sweep()
    await reached.opened // the first holds the lock, one chunk deleted
    expect(await second.sweep()).toBeNull()
    expect(lines.some((l) => l['msg'] === 'retention sweep skipped: another node is sweeping')).toBe(true)
    expect(await count(one, 'positions')).toBe(15)
    release.open()
    expect((await sweeping)?.deleted.positions).toBe(20)

    await addPositions(two, tenantId, 'ret-n2', 40, 3)
    expect(await second.sweep()).toEqual({ deleted: { positions: 3, dead_letters: 0, webhook_deliveries: 0 }, complete: true })
    // the lock went back with its connection: nothing of it is left in either pool
    const { rows } = await one.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_locks WHERE locktype = \'advisory\' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())')
    expect(rows[0]!.n).toBe(0)
  })
})

describe.runIf(postgres.available)('retention query plans on PostgreSQL', () => {
  let db: Database
  beforeAll(async () => { db = await postgres.open() })
  afterAll(async () => { await db?.close() })

  it('a chunk of dead letters is found through the received_at index, not by reading the table', async () => {
    await db.pool.query(`
      INSERT INTO dead_letters (tenant_id, device_id, topic, code, reason, payload, received_at)
      SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE gen_random_uuid() END, 'd' || (i % 100), 't', 'c', 'r', '\\x00'::bytea, now() - make_interval(mins => i)
      FROM generate_series(1, 60000) i`)
    await db.pool.query('ANALYZE dead_letters')
    // the statements the code sends, captured on their way to the database, then explained
    const seen: Array<{ text: string, values: unknown[] }> = []
    const recording = { query: (text: string, values: unknown[]) => { seen.push({ text, values }); return db.pool.query(text, values) } }
    await deleteOldDeadLetters(recording as never, new Date(Date.now() - 30 * DAY_MS), { chunk: 500, stopped: () => true })
    const { text, values } = seen[0]!
    const { rows } = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values)
    const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
    expect(plan).toContain('dead_letters_received_at_idx')
    expect(plan).not.toMatch(/Seq Scan/)
  })
})
