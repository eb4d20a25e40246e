// A throwaway PostgreSQL database for one bench run: created empty, migrated with ReTrack's own
// runner (src/db/migrate.ts, as `npm run db:migrate` does), dropped by drop() — registered as a
// cleanup step at once, so it is dropped even when the bench fails half-way.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { migrate } from '../../src/db/migrate.js'
import { serviceUrls } from '../../tests/helpers/service-urls.js'
import { onCleanup } from './cleanup.js'

/** the machine's PostgreSQL, where the tests look for it (RETRACK_TEST_POSTGRES_URL) */
export const POSTGRES_ADMIN_URL = serviceUrls().postgresAdminUrl

export const silentLog = pino({ level: 'silent' })

export interface ScratchDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

async function admin<T>(run: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await c.connect()
  try { return await run(c) } finally { await c.end() }
}

export async function createScratchDatabase(prefix = 'retrack_bench'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  let dropped = false
  const drop = async () => {
    if (dropped) return
    dropped = true
    // FORCE: a child process killed mid-run may leave sessions behind
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  }
  onCleanup(drop)
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 })
  try { await migrate(pool, silentLog) } finally { await pool.end() }
  return { url: url.toString(), name, drop }
}
