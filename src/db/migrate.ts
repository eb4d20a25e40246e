// Applies prisma/migrations the way `prisma migrate deploy` would, without Prisma's native engine
// (unavailable offline): one transaction per migration under an advisory lock, and a row per
// migration in Prisma's own _prisma_migrations table with the file's sha256, so `prisma migrate
// status` on a machine with the engine agrees with what ran here.
import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import type { Logger } from '../logger.js'
import { fromRoot } from '../paths.js'

export const migrationsDir = fromRoot('prisma/migrations')

const LOCK_KEY = 727_310_001 // arbitrary, constant: serializes migrators across nodes

export interface Migration { name: string, sql: string, checksum: string }

export function readMigrations(dir = migrationsDir): Migration[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

const createTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED'
}

/** Applies every pending migration; returns the names it applied. */
export async function migrate(pool: pg.Pool, log: Logger, dir = migrationsDir): Promise<string[]> {
  const migrations = readMigrations(dir)
  const client = await pool.connect()
  const applied: string[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY])
    await client.query(createTable)
    const { rows } = await client.query<{ migration_name: string, checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]))
    for (const m of migrations) {
      const previous = done.get(m.name)
      if (previous !== undefined) {
        if (previous !== m.checksum) log.warn({ migration: m.name }, 'migration file changed after it was applied')
        continue
      }
      const started = Date.now()
      try {
        await client.query('BEGIN')
        await client.query(m.sql)
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`, [randomUUID(), m.checksum, m.name])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(m.name)
      log.info({ migration: m.name, ms: Date.now() - started }, 'migration applied')
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined)
    client.release()
  }
  return applied
}
