// Retention: positions stamped more than RETENTION_POSITIONS_DAYS ago, dead letters received more
// than RETENTION_DEAD_LETTERS_DAYS ago and webhook deliveries (delivered or given up) written more
// than RETENTION_WEBHOOK_DELIVERIES_DAYS ago are deleted (0 keeps them forever). Tracking events,
// the shipments' lifecycle record, are never deleted here, nor a delivery still pending.
//
// Deletes go in chunks of at most `chunk` rows, one short statement each, with a yield between
// two: a large backlog never holds one long transaction or lock, and on the embedded database (one
// connection) ingestion gets its turn between chunks. Positions are deleted device by device
// through their key (device_id, ts); the devices come from positions itself (a loose index scan of
// that key), so the history of a device since deleted goes too. Dead letters go by received_at.
//
// On PostgreSQL a sweep holds an advisory lock on the connection it deletes with: of several nodes
// (or workers) only one sweeps at a time, the others skip that round. The embedded database belongs
// to one process (DATA_DIR lock), so it just sweeps, connection by connection.
import type pg from 'pg'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { Database } from './database.js'

/** rows per DELETE statement */
export const RETENTION_CHUNK = 5000
/** the first sweep waits this long after start(): start-up (migrations, replays) comes first */
export const FIRST_SWEEP_AFTER_MS = 60_000
const DEVICES_PER_PAGE = 500
const LOCK_KEY = 727_310_002 // arbitrary, constant (migrations use 727_310_001)
const DAY_MS = 86_400_000

export const RETENTION_SWEEP_FAILED = 'RETENTION_SWEEP_FAILED'

export class RetentionError extends Error {
  readonly code = RETENTION_SWEEP_FAILED
}

type Sql = Pick<pg.ClientBase, 'query'>
export type RetentionTable = 'positions' | 'dead_letters' | 'webhook_deliveries'

export interface ChunkOptions {
  chunk: number
  /** checked between chunks: true ends the deletion there */
  stopped?: () => boolean
  /** runs between two chunks (default: a turn of the event loop) */
  between?: () => Promise<void>
  /** told the size of every chunk deleted */
  deleted?: (rows: number) => void
  /** positions: device ids read per page of the device scan */
  devicesPerPage?: number
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

// The next page of distinct device ids after the cursor, one index probe per device (a DISTINCT
// would read every row of the history).
const devicePage = (op: '>=' | '>') => `
WITH RECURSIVE d(device_id, n) AS (
  (SELECT device_id, 1 FROM positions WHERE device_id ${op} $1 ORDER BY device_id LIMIT 1)
  UNION ALL
  SELECT (SELECT p.device_id FROM positions p WHERE p.device_id > d.device_id ORDER BY p.device_id LIMIT 1), d.n + 1
  FROM d WHERE d.device_id IS NOT NULL AND d.n < $2
)
SELECT device_id FROM d WHERE device_id IS NOT NULL`

const deletePositionsChunk = `
DELETE FROM positions WHERE device_id = $1 AND ts = ANY(ARRAY(
  SELECT ts FROM positions WHERE device_id = $1 AND ts < $2 ORDER BY ts LIMIT $3))`

const deleteDeadLettersChunk = `
DELETE FROM dead_letters WHERE id = ANY(ARRAY(
  SELECT id FROM dead_letters WHERE received_at < $1 ORDER BY received_at LIMIT $2))`

// oldest first by id (ids grow with created_at): the primary key's order, no index of its own
const deleteWebhookDeliveriesChunk = `
DELETE FROM webhook_deliveries WHERE id = ANY(ARRAY(
  SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1 ORDER BY id LIMIT $2))`

/** Runs `statement` until a chunk comes back short (or `stopped`); returns the rows deleted. */
async function inChunks(statement: () => Promise<number>, o: ChunkOptions): Promise<number> {
  let total = 0
  for (;;) {
    const rows = await statement()
    total += rows
    if (rows > 0) o.deleted?.(rows)
    if (rows < o.chunk || o.stopped?.()) return total
    await (o.between ?? nextTurn)()
    if (o.stopped?.()) return total
  }
}

/** Deletes the positions stamped before `cutoff`, device by device; returns how many. */
export async function deleteOldPositions(sql: Sql, cutoff: Date, o: ChunkOptions): Promise<number> {
  let total = 0
  let after: string | null = null
  for (;;) {
    const page: string[] = (await sql.query<{ device_id: string }>(devicePage(after === null ? '>=' : '>'), [after ?? '', o.devicesPerPage ?? DEVICES_PER_PAGE])).rows.map((r) => r.device_id)
    for (const device of page) {
      total += await inChunks(async () => (await sql.query(deletePositionsChunk, [device, cutoff, o.chunk])).rowCount ?? 0, o)
      if (o.stopped?.()) return total
    }
    if (page.length < (o.devicesPerPage ?? DEVICES_PER_PAGE)) return total
    after = page[page.length - 1]!
  }
}

/** Deletes the dead letters received before `cutoff` (of every tenant, and those of none); returns how many. */
export function deleteOldDeadLetters(sql: Sql, cutoff: Date, o: ChunkOptions): Promise<number> {
  return inChunks(async () => (await sql.query(deleteDeadLettersChunk, [cutoff, o.chunk])).rowCount ?? 0, o)
}

/** Deletes the webhook deliveries done (delivered or given up) and written before `cutoff`; returns how many. */
export function deleteOldWebhookDeliveries(sql: Sql, cutoff: Date, o: ChunkOptions): Promise<number> {
  return inChunks(async () => (await sql.query(deleteWebhookDeliveriesChunk, [cutoff, o.chunk])).rowCount ?? 0, o)
}

export interface RetentionSettings {
  /** 0: positions are kept forever */
  positionsDays: number
  /** 0: dead letters are kept forever */
  deadLettersDays: number
  /** 0: webhook deliveries are kept forever */
  webhookDeliveriesDays: number
  everyS: number
  chunk?: number
  firstAfterMs?: number
  between?: () => Promise<void>
}

export interface RetentionResult {
  deleted: Record<RetentionTable, number>
  /** false when stop() ended the sweep early */
  complete: boolean
}

/** Sweeps once shortly after start(), then every `everyS` after the previous sweep ended. */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<RetentionResult | null> | null = null
  private stopping = false

  constructor(
    private readonly db: Pick<Database, 'kind' | 'pool'>,
    private readonly settings: RetentionSettings,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** false when both retentions are 0: there is nothing to sweep */
  get enabled(): boolean { return this.settings.positionsDays > 0 || this.settings.deadLettersDays > 0 || this.settings.webhookDeliveriesDays > 0 }

  start(): void {
    if (!this.enabled) return
    this.stopping = false
    this.schedule(this.settings.firstAfterMs ?? FIRST_SWEEP_AFTER_MS)
  }

  /** Ends the timer; a sweep under way finishes its current chunk and stops there. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  /**
   * One sweep (joins the one under way); null when another node held the lock or it failed (a
   * warning with code RETENTION_SWEEP_FAILED: it is tried again at the next interval).
   */
  sweep(): Promise<RetentionResult | null> {
    this.running ??= this.pass()
      .catch((err: unknown) => {
        this.log.warn({ err, code: RETENTION_SWEEP_FAILED }, 'retention sweep failed; it runs again at the next interval')
        return null
      })
      .finally(() => { this.running = null })
    return this.running
  }

  private schedule(ms: number) {
    this.timer = setTimeout(() => {
      this.timer = null
      // the next one counts from the end of this one: sweeps never overlap however long one takes
      void this.sweep().then(() => { if (!this.stopping && this.timer === null) this.schedule(this.settings.everyS * 1000) })
    }, ms)
    this.timer.unref()
  }

  private async pass(): Promise<RetentionResult | null> {
    if (this.db.kind !== 'postgres') return this.deleteAll(this.db.pool)
    const client = await this.db.pool.connect()
    let failed: Error | undefined
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [LOCK_KEY])
      if (!rows[0]?.locked) {
        this.log.debug('retention sweep skipped: another node is sweeping')
        return null
      }
      try {
        return await this.deleteAll(client)
      } finally {
        // a connection that could not unlock must not go back to the pool still holding the lock
        await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch((err: unknown) => { failed = err as Error })
      }
    } catch (err) {
      failed ??= err as Error
      throw err
    } finally {
      client.release(failed)
    }
  }

  private async deleteAll(sql: Sql): Promise<RetentionResult> {
    const now = this.now()
    const deleted: Record<RetentionTable, number> = { positions: 0, dead_letters: 0, webhook_deliveries: 0 }
    const tables: Array<[RetentionTable, number, typeof deleteOldPositions]> = [
      ['positions', this.settings.positionsDays, deleteOldPositions],
      ['dead_letters', this.settings.deadLettersDays, deleteOldDeadLetters],
      ['webhook_deliveries', this.settings.webhookDeliveriesDays, deleteOldWebhookDeliveries],
    ]
    for (const [table, days, remove] of tables) {
      if (days <= 0 || this.stopping) continue
      const started = Date.now()
      const cutoff = new Date(now - days * DAY_MS)
      try {
        deleted[table] = await remove(sql, cutoff, {
          chunk: this.settings.chunk ?? RETENTION_CHUNK, stopped: () => this.stopping, between: this.settings.between,
          deleted: (rows) => this.metrics.retentionDeleted.inc({ table }, rows),
        })
      } catch (err) {
        throw new RetentionError(`deleting old ${table} failed: ${(err as Error).message}`, { cause: err })
      }
      if (deleted[table] > 0) this.log.info({ table, rows: deleted[table], ms: Date.now() - started, cutoff: cutoff.toISOString() }, 'retention: old rows deleted')
    }
    const complete = !this.stopping
    if (complete) this.metrics.retentionLastSuccess.set(Date.now() / 1000)
    return { deleted, complete }
  }
}
