// Tracking events (milestones, anomalies, device events, manual entries) written in batches. The
// dedupe key makes writing the same event twice (redelivery, two nodes) store it once. Every event
// stored here also gets its webhook deliveries in the same statement (src/webhooks/outbox.ts does
// the same for the API's Prisma transactions).
import { randomUUID } from 'node:crypto'
import type pg from 'pg'

export interface NewTrackingEvent {
  tenantId: string
  type: string
  ts: number
  source: 'device' | 'rule' | 'user'
  shipmentId?: string | null
  stopId?: string | null
  vehicleId?: string | null
  deviceId?: string | null
  userId?: string | null
  payload: Record<string, unknown>
  dedupeKey?: string | null
}

export interface StoredTrackingEvent extends NewTrackingEvent {
  id: number
  createdAt: number
}

// One statement: the events, and in the same statement (so the same transaction) one webhook
// delivery per enabled webhook of the event's tenant whose types match (a transactional outbox,
// docs/webhooks.md). Only rows actually inserted get deliveries: a redelivered event (its dedupe key
// already taken) returns nothing from `ins` and gets none.
const insertSql = `
WITH ins AS (
  INSERT INTO tracking_events (tenant_id, type, ts, source, shipment_id, stop_id, vehicle_id, device_id, user_id, payload, dedupe_key)
  SELECT t, ty, to_timestamp(ms / 1000.0), src::"EventSource", sh, st, ve, de, us, pl, dk
  FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::uuid[], $10::jsonb[], $11::text[])
    AS r(t, ty, ms, src, sh, st, ve, de, us, pl, dk)
  ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
  RETURNING id, tenant_id, type, dedupe_key, created_at
), deliveries AS (
  INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id)
  SELECT ins.tenant_id, w.id, ins.id
  FROM ins JOIN webhooks w ON w.tenant_id = ins.tenant_id AND w.enabled
  WHERE coalesce(cardinality(w.event_types), 0) = 0 OR ins.type = ANY(w.event_types)
)
SELECT id, tenant_id, dedupe_key, (extract(epoch from created_at) * 1000)::int8 AS created_ms FROM ins`

/** Stores the events; result i is the stored event, or null when its dedupe key was already taken. */
export async function insertTrackingEvents(pool: pg.Pool, events: NewTrackingEvent[]): Promise<Array<StoredTrackingEvent | null>> {
  // every row gets a key, so rows can be matched to RETURNING without trusting its order
  const keyed = events.map((e) => e.dedupeKey ? e : { ...e, dedupeKey: `u:${randomUUID()}` })
  const { rows } = await pool.query<{ id: number, tenant_id: string, dedupe_key: string, created_ms: number }>(insertSql, [
    keyed.map((e) => e.tenantId), keyed.map((e) => e.type), keyed.map((e) => e.ts), keyed.map((e) => e.source),
    keyed.map((e) => e.shipmentId ?? null), keyed.map((e) => e.stopId ?? null), keyed.map((e) => e.vehicleId ?? null),
    keyed.map((e) => e.deviceId ?? null), keyed.map((e) => e.userId ?? null), keyed.map((e) => JSON.stringify(e.payload)),
    keyed.map((e) => e.dedupeKey),
  ])
  const stored = new Map(rows.map((r) => [`${r.tenant_id}|${r.dedupe_key}`, r]))
  return keyed.map((e) => {
    const k = `${e.tenantId}|${e.dedupeKey}`
    const row = stored.get(k)
    if (!row) return null
    stored.delete(k) // a key repeated within one batch is stored, and reported, once
    return { ...e, id: row.id, createdAt: row.created_ms }
  })
}

/** A row as Prisma returns it, in the shape the live stream and MQTT publish. */
export function storedEventOf(e: {
  id: bigint | number, tenantId: string, type: string, ts: Date, createdAt: Date, source: 'device' | 'rule' | 'user',
  shipmentId: string | null, stopId: string | null, vehicleId: string | null, deviceId: string | null, userId: string | null, payload: unknown,
}): StoredTrackingEvent {
  return {
    id: Number(e.id), tenantId: e.tenantId, type: e.type, ts: e.ts.getTime(), createdAt: e.createdAt.getTime(), source: e.source,
    shipmentId: e.shipmentId, stopId: e.stopId, vehicleId: e.vehicleId, deviceId: e.deviceId, userId: e.userId,
    payload: e.payload as Record<string, unknown>, // every writer stores an object
  }
}
