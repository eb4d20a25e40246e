// The project's migration runner (src/db/migrate.ts) must leave the same trace `prisma migrate
// deploy` would: one _prisma_migrations row per migration with the sha256 of its file, and nothing
// new on a second run, also when two nodes start at once.
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createPostgresDatabase, databaseBackends, silentLog } from '../../helpers/databases.js'
import { openDatabase, type Database } from '../../../src/db/database.js'
import { migrate, migrationsDir } from '../../../src/db/migrate.js'

/** What is on disk, computed here rather than by the runner's own reader. */
const onDisk = readdirSync(migrationsDir)
  .filter((name) => existsSync(path.join(migrationsDir, name, 'migration.sql')))
  .sort()
  .map((name) => ({ name, checksum: createHash('sha256').update(readFileSync(path.join(migrationsDir, name, 'migration.sql'))).digest('hex') }))

async function recorded(db: Database) {
  const { rows } = await db.pool.query<{ id: string, migration_name: string, checksum: string, finished_at: Date | null, rolled_back_at: Date | null }>(
    'SELECT id, migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name')
  return rows
}

async function emptyDatabase(kind: 'postgres' | 'pglite', poolMax = 2) {
  if (kind === 'pglite') return { db: await openDatabase({ dataDir: 'memory://', poolMax: 1, log: silentLog }), drop: async () => undefined }
  const created = await createPostgresDatabase()
  return { db: await openDatabase({ url: created.url, dataDir: 'unused', poolMax, log: silentLog }), drop: created.drop, url: created.url }
}

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`migration runner on ${backend.name}`, () => {
    it('applies every migration once, records its sha256, and applies nothing the second time', async () => {
      expect(onDisk.length).toBeGreaterThan(0)
      const { db, drop } = await emptyDatabase(backend.name)
      try {
        expect(await migrate(db.pool, silentLog)).toEqual(onDisk.map((m) => m.name))
        const first = await recorded(db)
        expect(first.map((r) => ({ name: r.migration_name, checksum: r.checksum }))).toEqual(onDisk)
        expect(first.every((r) => r.finished_at !== null && r.rolled_back_at === null)).toBe(true)

        expect(await migrate(db.pool, silentLog)).toEqual([])
        expect(await recorded(db)).toEqual(first)
        // the schema is really there
        await expect(db.prisma.shipment.count()).resolves.toBe(0)
      } finally {
        await db.close()
        await drop()
      }
    })
  })
}

describe.runIf(databaseBackends().find((b) => b.name === 'postgres')?.available)('migration runner, two nodes at once', () => {
  it('serializes concurrent runners: each migration is applied and recorded exactly once', async () => {
    const { db, drop, url } = await emptyDatabase('postgres')
    const other = await openDatabase({ url: url!, dataDir: 'unused', poolMax: 2, log: silentLog })
    try {
      const [a, b] = await Promise.all([migrate(db.pool, silentLog), migrate(other.pool, silentLog)])
      expect([...a, ...b].sort()).toEqual(onDisk.map((m) => m.name))
      expect((await recorded(db)).map((r) => r.migration_name)).toEqual(onDisk.map((m) => m.name))
    } finally {
      await other.close()
      await db.close()
      await drop()
    }
  })
})
