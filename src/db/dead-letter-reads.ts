// The read side of dead letters (GET /dead-letters): a tenant's refused payloads, newest first,
// keyset-paged on (received_at, id). Raw SQL through the pool like the other feeds
// (src/db/read-models.ts): only the first bytes of each payload leave the database (a list would
// otherwise pull up to 64 KiB per row to show a few), and the cursor is a row-value comparison.
// Every statement starts with `tenant_id = $1`; callers pass the tenant of the authenticated caller,
// never a request value. Rows without a tenant (a device nobody owns) are nobody's to read.
import type pg from 'pg'

/** A position in the order: received time (ms), then id (rows of one write batch share a time). */
export interface DeadLetterKey { receivedAt: number, id: number }

export interface DeadLetterQuery {
  deviceId?: string
  codes?: string[]
  from?: Date
  to?: Date
}

export interface DeadLetterRow {
  id: number
  deviceId: string | null
  topic: string
  code: string
  reason: string
  receivedAt: Date
  /** the first `payloadBytes` bytes of the stored payload (or all of it) */
  payload: Buffer
  /** bytes stored (the writer keeps at most DEAD_LETTER_PAYLOAD_LIMIT) */
  storedBytes: number
}

interface Row { id: number, device_id: string | null, topic: string, code: string, reason: string, received_at: Date, payload: Buffer, stored_bytes: number }

const toRow = (r: Row): DeadLetterRow => ({
  id: r.id, deviceId: r.device_id, topic: r.topic, code: r.code, reason: r.reason, receivedAt: r.received_at,
  payload: r.payload, storedBytes: r.stored_bytes,
})

const COLUMNS = (payload: string) =>
  `id, device_id, topic, code, reason, received_at, ${payload} AS payload, octet_length(payload) AS stored_bytes`

/** One page of a tenant's dead letters, newest first; `hasMore` tells whether another page follows. */
export async function listDeadLetters(pool: pg.Pool, tenantId: string, q: DeadLetterQuery & { limit: number, payloadBytes: number, after?: DeadLetterKey }) {
  const params: unknown[] = [tenantId]
  const where = ['tenant_id = $1']
  const add = (sql: (n: number) => string, value: unknown) => { where.push(sql(params.push(value))) }
  if (q.deviceId !== undefined) add((n) => `device_id = $${n}`, q.deviceId)
  if (q.codes && q.codes.length > 0) add((n) => `code = ANY($${n}::text[])`, q.codes)
  if (q.from) add((n) => `received_at >= $${n}`, q.from)
  if (q.to) add((n) => `received_at <= $${n}`, q.to)
  if (q.after) {
    const at = params.push(new Date(q.after.receivedAt))
    const id = params.push(q.after.id)
    where.push(`(received_at, id) < ($${at}::timestamptz, $${id}::int8)`)
  }
  const bytes = params.push(q.payloadBytes)
  const limit = params.push(q.limit + 1)
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS(`substring(payload FROM 1 FOR $${bytes}::int)`)} FROM dead_letters WHERE ${where.join(' AND ')} ORDER BY received_at DESC, id DESC LIMIT $${limit}`, params)
  return { items: rows.slice(0, q.limit).map(toRow), hasMore: rows.length > q.limit }
}

/** One dead letter of the tenant with its whole stored payload, or null (also for another tenant's). */
export async function getDeadLetter(pool: pg.Pool, tenantId: string, id: number): Promise<DeadLetterRow | null> {
  const { rows } = await pool.query<Row>(
    `SELECT ${COLUMNS('payload')} FROM dead_letters WHERE tenant_id = $1 AND id = $2::int8`, [tenantId, id])
  return rows[0] ? toRow(rows[0]) : null
}
