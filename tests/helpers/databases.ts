// Each suite gets its own empty database: a fresh PostgreSQL database (created and dropped here)
// or a fresh in-memory PGlite. `databaseBackends()` lists those this machine can run.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { pino } from 'pino'
import { openDatabase, type Database } from '../../src/db/database.js'
import { migrate } from '../../src/db/migrate.js'
import { createTenantWithAdmin } from '../../src/db/accounts.js'
import { hashDeviceSecret } from '../../src/security/device-secrets.js'

export const silentLog = pino({ level: process.env.LOG_LEVEL ?? 'silent' })

export interface Backend {
  name: 'postgres' | 'pglite'
  available: boolean
  /** opens a new, migrated, empty database; close() also drops it */
  open(): Promise<Database>
}

/** Creates an empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createPostgresDatabase(adminUrl = inject('services').postgresAdminUrl) {
  const name = `retrack_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

export function databaseBackends(): Backend[] {
  const services = inject('services')
  return [
    {
      name: 'postgres',
      available: services.postgres,
      async open() {
        const created = await createPostgresDatabase(services.postgresAdminUrl)
        const db = await openDatabase({ url: created.url, dataDir: 'unused', poolMax: 5, log: silentLog })
        await migrate(db.pool, silentLog)
        return { ...db, kind: db.kind, pool: db.pool, prisma: db.prisma, location: db.location, async close() { await db.close(); await created.drop() } }
      },
    },
    {
      name: 'pglite',
      available: true,
      async open() {
        const db = await openDatabase({ dataDir: 'memory://', poolMax: 1, log: silentLog })
        await migrate(db.pool, silentLog)
        return db
      },
    },
  ]
}

/**
 * Migrates the (empty) PostgreSQL database at `url` and creates a tenant with an admin and devices
 * with known secrets, for suites that run ReTrack as a child process and cannot use the API first.
 */
export async function seedTenantWithDevices(url: string, tenant: { slug: string, adminEmail: string, password: string },
  devices: ReadonlyArray<{ id: string, secret: string }>): Promise<{ tenantId: string }> {
  const db = await openDatabase({ url, dataDir: 'unused', poolMax: 2, log: silentLog })
  try {
    await migrate(db.pool, silentLog)
    const created = await createTenantWithAdmin(db.prisma, { slug: tenant.slug, admin: { email: tenant.adminEmail, password: tenant.password } })
    await db.prisma.device.createMany({ data: devices.map((d) => ({ id: d.id, tenantId: created.tenant.id, name: d.id, secretHash: hashDeviceSecret(d.secret) })) })
    return { tenantId: created.tenant.id }
  } finally {
    await db.close()
  }
}
