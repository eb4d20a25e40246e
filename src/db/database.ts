// Opens the database ReTrack runs on: the PostgreSQL at DATABASE_URL, or an embedded PGlite (real
// Postgres compiled to wasm) in DATA_DIR served on a private loopback socket, so both modes share
// one code path: a pg Pool for the raw batched writes and Prisma (through adapter-pg) for the rest.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'

export type Prisma = InstanceType<typeof PrismaClient>

export interface Database {
  readonly kind: 'postgres' | 'embedded'
  readonly pool: pg.Pool
  readonly prisma: Prisma
  /** where it lives, without credentials (for logs and /health) */
  readonly location: string
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite in `dataDir` (or in memory for 'memory://') */
  url?: string | undefined
  dataDir: string
  poolMax: number
  log: Logger
}

// pg parses int8 as string by default; our bigints (ids, seq) fit in a double for any realistic
// fleet, and numbers keep the JSON API honest. numeric stays a string.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openEmbedded(options)
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.hostname}:${u.port || 5432}${u.pathname}`
  } catch {
    return 'postgres'
  }
}

function withPrisma(pool: pg.Pool): Prisma {
  return new PrismaClient({ adapter: new PrismaPg(pool) })
}

async function openPostgres(url: string, { poolMax, log }: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolMax, application_name: 'retrack' })
  pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'))
  await pool.query('select 1')
  const prisma = withPrisma(pool)
  return {
    kind: 'postgres', pool, prisma, location: redactUrl(url),
    async close() { await prisma.$disconnect(); await pool.end() },
  }
}

async function openEmbedded({ dataDir, log }: DatabaseOptions): Promise<Database> {
  // Loaded lazily: production never pays for the wasm build of Postgres.
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const inMemory = dataDir.startsWith('memory://')
  const dir = inMemory ? dataDir : path.resolve(dataDir, 'pg')
  if (!inMemory) mkdirSync(dir, { recursive: true })
  const started = Date.now()
  const db = await PGlite.create(dir)
  // The pool below holds one connection at a time. The server accepts a few more because, after a
  // failed statement, pglite-socket 0.2.17 closes that connection: pg then discards it and opens a
  // new one before the old socket is fully torn down, which a limit of 1 would refuse (the request
  // after any SQL error would fail with "Connection terminated unexpectedly").
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 })
  await server.start()
  // PGlite runs one statement at a time and the socket server interleaves connections per query,
  // so exactly one connection in use keeps transactions whole.
  const pool = new pg.Pool({ connectionString: `postgres://postgres@${server.getServerConn()}/postgres`, max: 1, idleTimeoutMillis: 0 })
  pool.on('error', (err) => log.error({ err }, 'embedded database connection failed'))
  await pool.query('select 1')
  log.info({ dir: inMemory ? dataDir : dir, ms: Date.now() - started }, 'embedded PGlite database open')
  const prisma = withPrisma(pool)
  return {
    kind: 'embedded', pool, prisma, location: inMemory ? dataDir : `pglite:${dir}`,
    async close() {
      await prisma.$disconnect()
      await pool.end()
      await server.stop()
      await db.close()
    },
  }
}
