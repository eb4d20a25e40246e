// The PostgreSQL pool never waits without end: a server that accepts but does not answer fails the
// open within the connect timeout (naming DATABASE_URL, never its password), a query unanswered
// for DB_QUERY_TIMEOUT_MS fails and its connection leaves the pool, and migrations (run through
// withoutQueryTimeout) are not limited.
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createPostgresDatabase, silentLog } from '../../helpers/databases.js'
import { DB_CONNECT_TIMEOUT_MS, openDatabase, type Database } from '../../../src/db/database.js'

const SECRET = 'hunter2-s3cret'

describe('a PostgreSQL that accepts connections and never answers', () => {
  const sockets = new Set<net.Socket>()
  // a real TCP server that takes every byte and says nothing (a paused proxy, a blackholed host)
  const silent = net.createServer((socket) => { sockets.add(socket); socket.on('data', () => undefined); socket.on('error', () => undefined) })
  let port = 0
  beforeAll(async () => { port = await new Promise<number>((r) => silent.listen(0, '127.0.0.1', () => r((silent.address() as net.AddressInfo).port))) })
  afterAll(() => { for (const s of sockets) s.destroy(); silent.close() })

  it('fails the open within the connect timeout, naming DATABASE_URL and where it points', async () => {
    const started = Date.now()
    const opening = openDatabase({ url: `postgres://retrack:${SECRET}@127.0.0.1:${port}/retrack`, dataDir: 'unused', poolMax: 2, queryTimeoutMs: 30_000, log: silentLog })
    const err = await opening.then(() => null, (e: unknown) => e as Error)
    const ms = Date.now() - started
    expect(err?.message).toBe(`DATABASE_URL: PostgreSQL at 127.0.0.1:${port} did not answer within ${DB_CONNECT_TIMEOUT_MS / 1000} s`)
    expect(err?.message).not.toContain(SECRET)
    expect(ms).toBeGreaterThanOrEqual(DB_CONNECT_TIMEOUT_MS - 100)
    expect(ms).toBeLessThan(DB_CONNECT_TIMEOUT_MS + 3000)
    expect(sockets.size).toBeGreaterThan(0) // it did reach the server: the wait was on the answer
  }, 20_000)

  it('a refused connection names DATABASE_URL too, at once', async () => {
    const err = await openDatabase({ url: `postgres://retrack:${SECRET}@127.0.0.1:1/retrack`, dataDir: 'unused', poolMax: 2, log: silentLog })
      .then(() => null, (e: unknown) => e as Error)
    expect(err?.message).toBe('DATABASE_URL: PostgreSQL at 127.0.0.1:1 is not reachable (connect ECONNREFUSED 127.0.0.1:1)')
  })
})

describe.runIf(inject('services').postgres)('query timeout on a real PostgreSQL', () => {
  let db: Database
  let drop: () => Promise<void>
  beforeAll(async () => {
    const created = await createPostgresDatabase()
    drop = created.drop
    db = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 2, queryTimeoutMs: 500, log: silentLog })
  })
  afterAll(async () => { await db.close(); await drop() })

  it('a query unanswered for DB_QUERY_TIMEOUT_MS fails, and its connection leaves the pool', async () => {
    const removed = new Promise<void>((resolve) => db.pool.once('remove', () => resolve()))
    const started = Date.now()
    await expect(db.pool.query('select pg_sleep(3)')).rejects.toThrow(/Query read timeout/)
    expect(Date.now() - started).toBeLessThan(2000)
    await removed // the connection left waiting is not handed to the next query
    expect((await db.pool.query<{ ok: number }>('select 1 as ok')).rows).toEqual([{ ok: 1 }])
  })

  it('withoutQueryTimeout (migrations) is not limited, and leaves the pool as it was', async () => {
    const rows = await db.withoutQueryTimeout(async (pool) => (await pool.query<{ ok: number }>('select 1 as ok from pg_sleep(1)')).rows)
    expect(rows).toEqual([{ ok: 1 }])
    await expect(db.pool.query('select pg_sleep(1)')).rejects.toThrow(/Query read timeout/)
  })
})
