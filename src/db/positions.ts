// Position history: written in batches with one raw `INSERT … SELECT FROM unnest(…)` per batch
// (a dozen array parameters whatever the row count; 5-8x faster than Prisma's createMany, see
// bench/db.ts). (device_id, ts) is unique, so a redelivered reading is stored once and reported
// as not new.
import type pg from 'pg'
import type { Fix } from '../contracts/payloads.js'

// The rows travel as one JSON array that PostgreSQL unpacks itself: cheaper for Node than a dozen
// escaped array parameters (pg's array serializer showed up in the ingest profile).
const insertSql = `
INSERT INTO positions (tenant_id, device_id, ts, received_at, lat, lon, speed, heading, alt, accuracy, battery, seq, attrs)
SELECT t, d, to_timestamp(ms / 1000.0), to_timestamp(rc / 1000.0), la, lo, sp, hd, al, ac, ba, sq, at
FROM json_to_recordset($1::json)
  AS r(t uuid, d text, ms float8, rc float8, la float8, lo float8, sp float8, hd float8, al float8, ac float8, ba float8, sq int8, at jsonb)
ON CONFLICT (device_id, ts) DO NOTHING
RETURNING device_id, (extract(epoch from ts) * 1000)::int8 AS ms`

const key = (deviceId: string, ts: number) => `${deviceId}\u0000${ts}`

/** Inserts the fixes; result i is true when fix i was new (not already stored, not repeated earlier in the batch). */
export async function insertPositions(pool: pg.Pool, fixes: Fix[]): Promise<boolean[]> {
  const rows = JSON.stringify(fixes.map((f) => ({
    // received_at is when the reading reached us (as in the asset state), not when its batch was written
    t: f.tenantId, d: f.deviceId, ms: f.ts, rc: f.receivedAt, la: f.lat, lo: f.lon, sp: f.speed, hd: f.heading, al: f.alt, ac: f.accuracy, ba: f.battery, sq: f.seq, at: f.attrs,
  })))
  const { rows: inserted } = await pool.query<{ device_id: string, ms: number }>(insertSql, [rows])
  const fresh = new Set(inserted.map((r) => key(r.device_id, r.ms)))
  return fixes.map((f) => fresh.delete(key(f.deviceId, f.ts)))
}

/** Marks fixes a stateful stage dropped after they were stored (e.g. an impossible jump). */
export async function markFiltered(pool: pg.Pool, marks: Array<{ deviceId: string, ts: number, reason: string }>): Promise<void> {
  if (marks.length === 0) return
  await pool.query(
    `UPDATE positions p SET filter_reason = m.reason
     FROM unnest($1::text[], $2::float8[], $3::text[]) AS m(d, ms, reason)
     WHERE p.device_id = m.d AND p.ts = to_timestamp(m.ms / 1000.0)`,
    [marks.map((m) => m.deviceId), marks.map((m) => m.ts), marks.map((m) => m.reason)])
}
