// Applies the processors' effects (src/core/effects.ts) to shipments and stops, in batches, with
// guards in SQL so a status never goes backward and an older ETA never replaces a newer one
// (several nodes, retries and replays can all deliver the same effect); the paces handed to the
// fleet go to fleet-pace.ts.
import type pg from 'pg'
import type { CoreEffect } from '../core/effects.js'
import { mergeFleetPaces } from './fleet-pace.js'

type Of<K extends CoreEffect['kind']> = Extract<CoreEffect, { kind: K }>
const ms = (v: number | undefined) => v ?? null

const rank = { pending: 0, arrived: 1, departed: 2, skipped: 3 } as const

/** One row per stop for UPDATE … FROM unnest (a row joined twice is applied once, at random). */
function latestPerStop<T extends { stopId: string }>(items: T[], better: (a: T, b: T) => boolean): T[] {
  const by = new Map<string, T>()
  for (const e of items) {
    const prev = by.get(e.stopId)
    if (!prev || better(e, prev)) by.set(e.stopId, e)
  }
  return [...by.values()]
}

export async function applyEffects(pool: pg.Pool, effects: CoreEffect[]): Promise<void> {
  const stops = latestPerStop(effects.filter((e): e is Of<'stop'> => e.kind === 'stop'), (a, b) => rank[a.status] > rank[b.status])
  const shipments = effects.filter((e): e is Of<'shipment'> => e.kind === 'shipment')
  const etas = latestPerStop(effects.filter((e): e is Of<'eta'> => e.kind === 'eta'), (a, b) => a.at >= b.at)
  if (stops.length > 0) {
    await pool.query(`
      UPDATE stops s SET status = u.status::"StopStatus",
        -- an ETA is for a stop still to reach: once reached or skipped its last prediction would only mislead
        eta = NULL, eta_status = 'unknown',
        arrived_at = COALESCE(to_timestamp(u.arrived / 1000.0), s.arrived_at),
        departed_at = COALESCE(to_timestamp(u.departed / 1000.0), s.departed_at)
      FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::float8[], $5::float8[]) AS u(tenant, id, status, arrived, departed)
      WHERE s.id = u.id AND s.tenant_id = u.tenant
        AND array_position(ARRAY['pending','arrived','departed','skipped'], s.status::text) < array_position(ARRAY['pending','arrived','departed','skipped'], u.status)
        AND (u.status <> 'skipped' OR s.status = 'pending')`,
    [stops.map((e) => e.tenantId), stops.map((e) => e.stopId), stops.map((e) => e.status), stops.map((e) => ms(e.arrivedAt)), stops.map((e) => ms(e.departedAt))])
  }
  for (const e of shipments) {
    // one at a time: a batch may move the same shipment twice (at_stop, then in_transit)
    // Guards: a closed shipment stays closed; an open exception only gives way to delivery; a planned
    // one has no device or vehicle (unassigned meanwhile: the effect is stale); and an effect from a
    // fix older than the one that set the current status (redelivery, a second node) changes nothing,
    // or at_stop/in_transit would flip back. Times compare at the column's millisecond precision.
    await pool.query(`
      UPDATE shipments SET status = $3::"ShipmentStatus", updated_at = now(), status_at = to_timestamp($4 / 1000.0)::timestamptz(3),
        started_at = CASE WHEN $3 IN ('in_transit', 'at_stop') THEN COALESCE(started_at, to_timestamp($4 / 1000.0)) ELSE started_at END,
        delivered_at = CASE WHEN $3 = 'delivered' THEN to_timestamp($4 / 1000.0) ELSE delivered_at END
      WHERE id = $2 AND tenant_id = $1 AND status NOT IN ('delivered', 'cancelled', 'planned') AND (status <> 'exception' OR $3 = 'delivered')
        AND (status_at IS NULL OR status_at <= to_timestamp($4 / 1000.0)::timestamptz(3))`,
    [e.tenantId, e.shipmentId, e.status, e.at])
  }
  if (etas.length > 0) {
    await pool.query(`
      UPDATE stops s SET eta = to_timestamp(u.eta / 1000.0), eta_status = u.status::"EtaStatus", eta_updated_at = to_timestamp(u.at / 1000.0)
      FROM unnest($1::uuid[], $2::uuid[], $3::float8[], $4::text[], $5::float8[]) AS u(tenant, id, eta, status, at)
      WHERE s.id = u.id AND s.tenant_id = u.tenant AND s.status = 'pending'
        AND (s.eta_updated_at IS NULL OR s.eta_updated_at <= to_timestamp(u.at / 1000.0)::timestamptz(3))`,
    [etas.map((e) => e.tenantId), etas.map((e) => e.stopId), etas.map((e) => e.eta), etas.map((e) => e.etaStatus), etas.map((e) => e.at)])
  }
  const paces = effects.filter((e): e is Of<'pace'> => e.kind === 'pace')
  if (paces.length > 0) await mergeFleetPaces(pool, paces)
}
