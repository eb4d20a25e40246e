// The tenant's fleet pace (src/core/features/fleet-pace.ts) in the database: the 'pace' effects of
// its assets merged into one row per tenant, and read back for the asset context. The merge is a
// read-modify-write under the row's lock, so nodes handing over legs at the same moment each add
// theirs. An effect delivered twice (a retry after a failure) counts twice: a pace is an average,
// and one leg counted twice in ten hours of driving moves it by a fraction of a percent.
import type pg from 'pg'
import type { CoreEffect } from '../core/effects.js'
import { mergeFleetPace, type FleetPace } from '../core/features/fleet-pace.js'
import type { SpeedHistogram } from '../geo/eta.js'

type PaceEffect = Extract<CoreEffect, { kind: 'pace' }>

/** A histogram as stored: an array of [bin, seconds, metres] with finite non-negative numbers; anything else is none. */
function histogramOf(value: unknown): SpeedHistogram | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined
  const ok = value.every((b) => Array.isArray(b) && b.length === 3 && b.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0))
  return ok ? value as SpeedHistogram : undefined
}

function paceOf(row: { open: unknown, near: unknown } | undefined): FleetPace | null {
  if (!row) return null
  const open = histogramOf(row.open)
  const near = histogramOf(row.near)
  return open || near ? { ...(open ? { open } : {}), ...(near ? { near } : {}) } : null
}

export async function loadFleetPace(pool: pg.Pool, tenantId: string): Promise<FleetPace | null> {
  const { rows: [row] } = await pool.query<{ open: unknown, near: unknown }>('SELECT open, near FROM fleet_paces WHERE tenant_id = $1', [tenantId])
  return paceOf(row)
}

/** Merges the effects into their tenants' rows, one transaction per tenant (a deleted tenant's are dropped). */
export async function mergeFleetPaces(pool: pg.Pool, effects: readonly PaceEffect[]): Promise<void> {
  const byTenant = new Map<string, PaceEffect[]>()
  for (const e of effects) byTenant.set(e.tenantId, [...byTenant.get(e.tenantId) ?? [], e])
  for (const [tenantId, legs] of byTenant) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      // from tenants: no row (and no foreign-key error failing the whole batch) for a tenant deleted meanwhile
      await client.query('INSERT INTO fleet_paces (tenant_id) SELECT id FROM tenants WHERE id = $1 ON CONFLICT DO NOTHING', [tenantId])
      const { rows: [row] } = await client.query<{ open: unknown, near: unknown }>('SELECT open, near FROM fleet_paces WHERE tenant_id = $1 FOR UPDATE', [tenantId])
      if (row) {
        const pace = legs.reduce<FleetPace | null>((into, leg) => mergeFleetPace(into, leg), paceOf(row))
        await client.query('UPDATE fleet_paces SET open = $2, near = $3, updated_at = now() WHERE tenant_id = $1',
          [tenantId, JSON.stringify(pace?.open ?? []), JSON.stringify(pace?.near ?? [])])
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      client.release()
    }
  }
}
