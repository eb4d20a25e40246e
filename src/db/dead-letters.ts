// Payloads the ingestion path refused, kept with their reason (and the first 64 KiB of the payload)
// so an operator can see why a device's data is missing.
import type pg from 'pg'

export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024

export interface DeadLetter {
  tenantId: string | null
  deviceId: string | null
  topic: string
  code: string
  reason: string
  payload: Buffer
}

export async function insertDeadLetters(pool: pg.Pool, letters: DeadLetter[]): Promise<true[]> {
  await pool.query(
    `INSERT INTO dead_letters (tenant_id, device_id, topic, code, reason, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])`,
    [
      letters.map((l) => l.tenantId), letters.map((l) => l.deviceId), letters.map((l) => l.topic),
      letters.map((l) => l.code), letters.map((l) => l.reason.slice(0, 1000)),
      letters.map((l) => l.payload.subarray(0, DEAD_LETTER_PAYLOAD_LIMIT)),
    ])
  return letters.map(() => true as const)
}
