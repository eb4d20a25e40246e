// Opens the database ReTrack runs on: the PostgreSQL at DATABASE_URL, or an embedded PGlite (real
// Postgres compiled to wasm) in DATA_DIR served on a Unix socket in an owner-only folder (never a
// TCP port: src/db/embedded-socket.ts), so both modes share one code path: a pg Pool for the raw
// batched writes and Prisma (through adapter-pg) for the rest.
import { chmodSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.js'
import type { Logger } from '../logger.js'
import { embeddedSocketFolder, SOCKET_PORT } from './embedded-socket.js'

export type Prisma = InstanceType<typeof PrismaClient>

export interface Database {
  readonly kind: 'postgres' | 'embedded'
  readonly pool: pg.Pool
  readonly prisma: Prisma
  /** where it lives, without credentials (for logs and /health) */
  readonly location: string
  /**
   * Runs `fn` on a pool whose queries have no time limit, then closes it: for migrations, which may
   * rewrite a big table or wait for another node's migration lock. The embedded database's own pool
   * (never limited).
   */
  withoutQueryTimeout<T>(fn: (pool: pg.Pool) => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite in `dataDir` (or in memory for 'memory://') */
  url?: string | undefined
  dataDir: string
  poolMax: number
  /** PostgreSQL only: longest a query may go unanswered before it fails (and its connection is dropped); 0 or absent: no limit */
  queryTimeoutMs?: number | undefined
  log: Logger
}

/**
 * Longest ReTrack waits to establish a PostgreSQL connection (TCP, TLS, authentication), at start-up
 * and whenever the pool opens a new one; as long as start-up waits for Redis.
 */
export const DB_CONNECT_TIMEOUT_MS = 5000

/** TCP keepalive on PostgreSQL connections: a peer that vanished is noticed on an idle connection, and NATs/firewalls keep it */
const KEEPALIVE_DELAY_MS = 10_000

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

/** Where a PostgreSQL URL points, `host:port`, without its credentials (a socket-only URL names its ?host= folder). */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || u.searchParams.get('port') || 5432}`
  } catch {
    return 'its host'
  }
}

function withPrisma(pool: pg.Pool): Prisma {
  return new PrismaClient({ adapter: new PrismaPg(pool) })
}

/**
 * pg's Client with the connect timeout and TCP keepalive. On the client, not the pool: pg-pool
 * applies its connectionTimeoutMillis to waiting for a free pooled connection as well, which would
 * fail the requests of a node that is merely busy (DB_POOL_MAX connections all in use under load).
 * That wait stays bounded anyway: every connection is established, and every query answered (with
 * DB_QUERY_TIMEOUT_MS), within its own limit.
 */
class TimedClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super({ ...config, connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS, keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS })
  }
}

/** A start-up failure as an operator reads it: the setting, where it points (never its password), what went wrong. */
function unreachable(url: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err)
  const where = `DATABASE_URL: PostgreSQL at ${postgresAddress(url)}`
  // pg's words for its connect timeout, and for the read timeout of the first query below
  return /timeout expired|connection timeout|Query read timeout/i.test(message)
    ? new Error(`${where} did not answer within ${DB_CONNECT_TIMEOUT_MS / 1000} s`, { cause: err })
    : new Error(`${where} ${(err as NodeJS.ErrnoException).syscall ? 'is not reachable' : 'refused the connection'} (${message})`, { cause: err })
}

function postgresPool(url: string, max: number, queryTimeoutMs: number | undefined): pg.Pool {
  return new pg.Pool({
    connectionString: url, max, application_name: 'retrack', Client: TimedClient,
    // client side, so that it also ends a wait on a connection that silently died (a half-open
    // TCP connection, a paused proxy), which a server-side statement_timeout cannot: the query
    // fails and the pool drops its connection. 0 = none (pg's `false`).
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
  })
}

async function openPostgres(url: string, { poolMax, queryTimeoutMs, log }: DatabaseOptions): Promise<Database> {
  const pool = postgresPool(url, poolMax, queryTimeoutMs)
  pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'))
  try {
    // connected within the connect timeout, and answering within as long again (pg takes a
    // per-query query_timeout; its types do not say so)
    const probe: pg.QueryConfig & { query_timeout: number } = { text: 'select 1', query_timeout: DB_CONNECT_TIMEOUT_MS }
    await pool.query(probe)
  } catch (err) {
    await pool.end().catch(() => undefined)
    throw unreachable(url, err)
  }
  const prisma = withPrisma(pool)
  return {
    kind: 'postgres', pool, prisma, location: redactUrl(url),
    async withoutQueryTimeout(fn) {
      if (!queryTimeoutMs) return fn(pool)
      const untimed = postgresPool(url, 1, undefined)
      untimed.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'))
      try { return await fn(untimed) } finally { await untimed.end() }
    },
    async close() { await prisma.$disconnect(); await pool.end() },
  }
}

async function openEmbedded({ dataDir, log }: DatabaseOptions): Promise<Database> {
  // Loaded lazily: production never pays for the wasm build of Postgres.
  const { PGlite } = await import('@electric-sql/pglite')
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket')
  const inMemory = dataDir.startsWith('memory://')
  const dir = inMemory ? dataDir : path.resolve(dataDir, 'pg')
  if (!inMemory) mkdirSync(dir, { recursive: true, mode: 0o700 }) // DATA_DIR itself: src/db/embedded-lock.ts
  const started = Date.now()
  const db = await PGlite.create(dir)
  // No password exists to check (pglite-socket has no authentication): the socket's folder, 0700,
  // is what keeps other local users out. DATA_DIR/pg-socket, or a private temporary folder.
  const socket = await embeddedSocketFolder(inMemory ? undefined : dataDir).catch(async (err: unknown) => { await db.close(); throw err })
  // The pool below holds one connection at a time. The server accepts a few more because, after a
  // failed statement, pglite-socket 0.2.17 closes that connection: pg then discards it and opens a
  // new one before the old socket is fully torn down, which a limit of 1 would refuse (the request
  // after any SQL error would fail with "Connection terminated unexpectedly").
  const server = new PGLiteSocketServer({ db, path: socket.socketPath, maxConnections: 4 })
  // PGlite runs one statement at a time and the socket server interleaves connections per query,
  // so exactly one connection in use keeps transactions whole.
  const pool = new pg.Pool({ host: socket.folder, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 1, idleTimeoutMillis: 0 })
  pool.on('error', (err) => log.error({ err }, 'embedded database connection failed'))
  const stop = async () => {
    await pool.end()
    await server.stop() // closing the listener removes the socket file
    await db.close()
    socket.remove()
  }
  try {
    await server.start()
    chmodSync(socket.socketPath, 0o600) // the folder keeps others out already; the file's mode says so too
    await pool.query('select 1')
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
  log.info({ dir: inMemory ? dataDir : dir, socket: socket.socketPath, ms: Date.now() - started }, 'embedded PGlite database open')
  const prisma = withPrisma(pool)
  return {
    kind: 'embedded', pool, prisma, location: inMemory ? dataDir : `pglite:${dir}`,
    withoutQueryTimeout: (fn) => fn(pool),
    async close() {
      await prisma.$disconnect()
      await stop()
    },
  }
}
