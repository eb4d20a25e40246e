// The dispatcher's SQL over webhook_deliveries (raw, through the pool, like the other background
// writers). Every time is the database's clock, so several nodes agree on what is due.
//
// Claiming takes, for each enabled webhook, its oldest pending delivery (in event-id order) when it
// is due, and leases it: `next_attempt_at` moves to the end of the lease and `attempts` counts the
// attempt. Because only the head of a webhook can be claimed, and a claimed head is not due until
// its attempt is recorded (or its lease runs out), a webhook has at most one attempt in flight in
// the whole deployment and its events go out in order. `FOR UPDATE SKIP LOCKED` lets several
// nodes claim at once without waiting on, or double-claiming, each other's rows. A node that dies
// mid-attempt leaves a lease that simply runs out: the delivery is due again (at-least-once).
import type pg from 'pg'
import { storedEventOf, type StoredTrackingEvent } from '../db/tracking-events.js'

export interface ClaimedDelivery {
  id: number
  webhookId: string
  /** attempts including this one; the guard of every write about this attempt */
  attempts: number
  url: string
  secret: string
  event: StoredTrackingEvent
}

const claimSql = `
WITH heads AS (
  SELECT h.id
  FROM webhooks w
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
    WHERE d.webhook_id = w.id AND d.status = 'pending'
    ORDER BY d.event_id LIMIT 1
  ) h
  WHERE w.enabled AND h.next_attempt_at <= now() AND w.id <> ALL($1::uuid[])
  ORDER BY h.next_attempt_at
  LIMIT $2
), claimed AS (
  SELECT d.id FROM webhook_deliveries d
  WHERE d.id IN (SELECT id FROM heads) AND d.status = 'pending' AND d.next_attempt_at <= now()
  FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + $3::int8 * interval '1 millisecond'
FROM claimed c, webhooks w, tracking_events e
WHERE d.id = c.id AND w.id = d.webhook_id AND e.id = d.event_id
RETURNING d.id, d.webhook_id, d.attempts, w.url, w.secret,
  e.id AS event_id, e.tenant_id, e.type, e.ts, e.created_at, e.source, e.shipment_id, e.stop_id, e.vehicle_id, e.device_id, e.user_id, e.payload`

interface ClaimRow {
  id: number, webhook_id: string, attempts: number, url: string, secret: string, event_id: number, tenant_id: string, type: string,
  ts: Date, created_at: Date, source: 'device' | 'rule' | 'user', shipment_id: string | null, stop_id: string | null,
  vehicle_id: string | null, device_id: string | null, user_id: string | null, payload: unknown
}

const deliveredSql = `
WITH d AS (
  UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status_code = $3, last_error = NULL
  WHERE id = $1 AND attempts = $2 AND status = 'pending'
  RETURNING webhook_id
)
UPDATE webhooks w SET consecutive_failures = 0, last_success_at = now() FROM d WHERE w.id = d.webhook_id`

// given up when the attempt fails at or after the delivery's maximum age; the retries before are
// never scheduled later than that age, so the last one happens then
const failedSql = `
WITH d AS (
  UPDATE webhook_deliveries SET
    status = CASE WHEN now() >= created_at + $5::int8 * interval '1 second' THEN 'failed'::"WebhookDeliveryStatus" ELSE 'pending'::"WebhookDeliveryStatus" END,
    next_attempt_at = LEAST(now() + $4::int8 * interval '1 millisecond', created_at + $5::int8 * interval '1 second'),
    last_status_code = $3, last_error = $6
  WHERE id = $1 AND attempts = $2 AND status = 'pending'
  RETURNING webhook_id, status
), health AS (
  UPDATE webhooks w SET consecutive_failures = w.consecutive_failures + 1, last_error = $6, last_failure_at = now()
  FROM d WHERE w.id = d.webhook_id
)
SELECT status FROM d`

/** Beyond the request's own deadline, how long a claim stays with its node (recording the outcome included). */
export const LEASE_MARGIN_MS = 60_000

/** The lease of a claim made with WEBHOOK_TIMEOUT_MS = `timeoutMs`. */
export const leaseMsFor = (timeoutMs: number) => timeoutMs + LEASE_MARGIN_MS

/**
 * Makes pending deliveries due now (their backoff dropped): one delivery (`deliveryId`) or the
 * webhook's head (its oldest pending delivery). A delivery being attempted right now is left as it
 * is: its lease (`next_attempt_at` exactly `leaseMs` after `last_attempt_at`, as the claim sets it)
 * is not cut short, so the webhook never has two attempts in flight. Scoped to `tenantId` by hand
 * (raw SQL, past the tenant-scoped client). Returns the ids made due.
 */
export async function makeDueNow(pool: pg.Pool, where: { tenantId: string, webhookId: string, deliveryId?: bigint }, leaseMs: number): Promise<number[]> {
  const target = where.deliveryId !== undefined
    ? 'd.id = $4::int8'
    : `d.id = (SELECT h.id FROM webhook_deliveries h WHERE h.webhook_id = $1 AND h.status = 'pending' ORDER BY h.event_id LIMIT 1)`
  const { rows } = await pool.query<{ id: string }>(`
    UPDATE webhook_deliveries d SET next_attempt_at = now()
    WHERE ${target} AND d.webhook_id = $1 AND d.tenant_id = $2 AND d.status = 'pending' AND d.next_attempt_at > now()
      AND NOT (d.last_attempt_at IS NOT NULL AND d.next_attempt_at = d.last_attempt_at + $3::int8 * interval '1 millisecond')
    RETURNING d.id`, [where.webhookId, where.tenantId, Math.ceil(leaseMs), ...where.deliveryId !== undefined ? [String(where.deliveryId)] : []])
  return rows.map((r) => Number(r.id))
}

export class DeliveryStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Up to `limit` due heads of webhooks other than `busy`, each leased for `leaseMs`. */
  async claim(limit: number, busy: readonly string[], leaseMs: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.pool.query<ClaimRow>(claimSql, [busy, limit, Math.ceil(leaseMs)])
    return rows.map((r) => ({
      id: r.id, webhookId: r.webhook_id, attempts: r.attempts, url: r.url, secret: r.secret,
      event: storedEventOf({
        id: r.event_id, tenantId: r.tenant_id, type: r.type, ts: r.ts, createdAt: r.created_at, source: r.source,
        shipmentId: r.shipment_id, stopId: r.stop_id, vehicleId: r.vehicle_id, deviceId: r.device_id, userId: r.user_id, payload: r.payload,
      }),
    }))
  }

  async delivered(d: ClaimedDelivery, statusCode: number): Promise<void> {
    await this.pool.query(deliveredSql, [d.id, d.attempts, statusCode])
  }

  /**
   * Records a failed attempt: the next one after `retryInMs`, or given up past `maxAgeS`. Returns the
   * delivery's status now, or null when this attempt no longer owned it (its lease ran out and
   * another node took it).
   */
  async failed(d: ClaimedDelivery, outcome: { statusCode: number | null, error: string }, retryInMs: number, maxAgeS: number): Promise<'pending' | 'failed' | null> {
    const { rows } = await this.pool.query<{ status: 'pending' | 'failed' }>(failedSql, [d.id, d.attempts, outcome.statusCode, Math.ceil(retryInMs), maxAgeS, outcome.error])
    return rows[0]?.status ?? null
  }

  /**
   * Once the head of a webhook was given up for its age, every other pending delivery of that
   * webhook also past `maxAgeS` is given up with it, in one statement and without an attempt of its
   * own (an endpoint down for longer than the maximum age would otherwise get one immediate last
   * attempt per expired delivery, with no backoff between them). Leased rows (an attempt in flight
   * on another node) are left alone. Returns how many were given up.
   */
  async giveUpExpired(webhookId: string, maxAgeS: number, reason: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = $3
       WHERE webhook_id = $1 AND status = 'pending' AND created_at + $2::int8 * interval '1 second' <= now() AND next_attempt_at <= now()`,
      [webhookId, maxAgeS, reason])
    return rowCount ?? 0
  }

  /** An attempt the node gave up on while stopping: due again at once (it may have arrived: at-least-once). */
  async release(d: ClaimedDelivery, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now(), last_error = $3 WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [d.id, d.attempts, reason])
  }

  /** Pending deliveries of every webhook (the deployment's backlog), one index probe per webhook. */
  async pendingCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`
      SELECT coalesce(sum(p.n), 0)::int8 AS n FROM webhooks w
      CROSS JOIN LATERAL (SELECT count(*) AS n FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending') p`)
    return rows[0]?.n ?? 0
  }
}

/**
 * The wait after a failed attempt number `attempts`: `minMs` doubled for every attempt before it,
 * at most `maxMs`, less up to a quarter at random so that deliveries failing together (an endpoint
 * down for all of them) do not all retry at the same instant.
 */
export function backoffMs(attempts: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempts - 1), 40))
  return Math.round(base * (1 - 0.25 * random()))
}
