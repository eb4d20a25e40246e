// Loads what the processors need per asset (src/core/context.ts): the tenant's geofences as a
// spatial index, the shipment the device carries now (its stops, windows and route) and the
// tenant's fleet pace (fleet-pace.ts). All are cached; a configuration change (published on the
// bus by the API) drops the tenant's entries on every node, and a short TTL bounds staleness otherwise. An expired entry is refreshed in the
// background while the old one keeps serving (stale-while-revalidate): otherwise every asset's
// next batch would wait on the database at the same moment, every TTL, and show in the p99.
import type pg from 'pg'
import { fromGeoJSON, GeofenceIndex, RouteLine, type FenceEntry } from '../geo/index.js'
import { stopsOnRoute, type AssetContext, type AssetContextLoader, type PlanStop, type ShipmentPlan, type ShipmentStatus, type StopStatus } from '../core/context.js'
import type { FleetPace } from '../core/features/fleet-pace.js'
import type { AssetKey } from '../core/ports.js'
import type { Logger } from '../logger.js'
import type { DeviceDirectory } from './device-directory.js'
import { loadFleetPace } from './fleet-pace.js'

const ACTIVE: ShipmentStatus[] = ['assigned', 'in_transit', 'at_stop', 'exception']

/**
 * The shipment a device carries now: $1 tenant, $2 device, $3 its vehicle (or null), $4 ACTIVE.
 * `status = ANY($4::"ShipmentStatus"[])`, not `status::text = ANY($4)`: compared as the enum it is,
 * the condition goes into shipments_tenant_id_status_created_at_idx, so the read touches the
 * tenant's open shipments only instead of every shipment it ever had (delivered ones pile up).
 * A truck is often given its next trips before it finishes this one: the one under way comes
 * first (whether it names the device or the vehicle), then one naming the device itself, then the
 * one due first (its earliest stop window), then the one planned first (created first), so the
 * fixes of today's trip never go to tomorrow's shipment. A shipment with no stop left to reach (an
 * operator skipped them all before it started) is not carried: it waits for the operator.
 */
const CARRIED_SHIPMENT_SQL = `SELECT id, reference, status, vehicle_id, route, temp_min_c, temp_max_c FROM shipments s
       WHERE tenant_id = $1 AND status = ANY($4::"ShipmentStatus"[]) AND (device_id = $2 OR ($3::uuid IS NOT NULL AND vehicle_id = $3::uuid))
         AND EXISTS (SELECT 1 FROM stops WHERE stops.tenant_id = s.tenant_id AND stops.shipment_id = s.id AND stops.status IN ('pending', 'arrived'))
       ORDER BY (status <> 'assigned') DESC, (device_id IS NOT DISTINCT FROM $2) DESC,
         (SELECT min(window_start) FROM stops WHERE stops.tenant_id = s.tenant_id AND stops.shipment_id = s.id) ASC NULLS LAST,
         created_at ASC, id ASC LIMIT 1`

/** `resolved` is set once `value` has resolved (boxed: a tenant without fences caches null) */
interface Cached<T> { value: Promise<T>, at: number, refreshing?: boolean, resolved?: { value: T } }
interface Carried { vehicleId: string | null, shipment: ShipmentPlan | null }

const contextOf = (fences: GeofenceIndex | null, { vehicleId, shipment }: Carried, fleetPace: FleetPace | null): AssetContext =>
  ({ vehicleId, fences, shipment, fleetPace })

export class DbAssetContextLoader implements AssetContextLoader {
  private readonly fences = new Map<string, Cached<GeofenceIndex | null>>()
  private readonly plans = new Map<string, Cached<Carried>>()
  /** per tenant; only the TTL refreshes it (a pace moves slowly, nothing needs it at once) */
  private readonly paces = new Map<string, Cached<FleetPace | null>>()

  constructor(private readonly pool: pg.Pool, private readonly directory: DeviceDirectory, private readonly log: Logger, private readonly ttlMs = 30_000) {}

  load(key: AssetKey): AssetContext | Promise<AssetContext> {
    const fences = this.cached(this.fences, key.tenantId, () => this.loadFences(key.tenantId))
    const carried = this.cached(this.plans, `${key.tenantId}:${key.deviceId}`, () => this.loadCarried(key))
    const pace = this.cached(this.paces, key.tenantId, () => loadFleetPace(this.pool, key.tenantId))
    // all in memory, the case of nearly every batch: no promise to allocate and await
    if (fences.resolved && carried.resolved && pace.resolved) return contextOf(fences.resolved.value, carried.resolved.value, pace.resolved.value)
    return Promise.all([fences.value, carried.value, pace.value]).then(([f, c, p]) => contextOf(f, c, p))
  }

  /** Forget what is cached for a tenant (fences changed, a shipment changed). */
  invalidate(tenantId: string, what: 'fences' | 'plans' | 'all' = 'all'): void {
    if (what !== 'plans') this.fences.delete(tenantId)
    if (what !== 'fences') for (const k of this.plans.keys()) if (k.startsWith(`${tenantId}:`)) this.plans.delete(k)
  }

  private cached<T>(cache: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Cached<T> {
    const hit = cache.get(key)
    if (hit) {
      if (Date.now() - hit.at >= this.ttlMs && !hit.refreshing) this.refresh(cache, key, hit, load)
      return hit
    }
    const entry: Cached<T> = { value: load(), at: Date.now() }
    entry.value.then((value) => { entry.resolved = { value } }, () => { if (cache.get(key) === entry) cache.delete(key) })
    cache.set(key, entry)
    return entry
  }

  /** Replaces `hit` when the fresh value is in, unless it was invalidated meanwhile (then the next load reads anew). */
  private refresh<T>(cache: Map<string, Cached<T>>, key: string, hit: Cached<T>, load: () => Promise<T>) {
    hit.refreshing = true
    load().then((value) => {
      if (cache.get(key) === hit) cache.set(key, { value: Promise.resolve(value), at: Date.now(), resolved: { value } })
    }, (err: unknown) => {
      hit.refreshing = false
      this.log.warn({ err, key }, 'refreshing an asset context failed: the cached one stays in use')
    })
  }

  /** The device's vehicle and the shipment it carries now. */
  private async loadCarried(key: AssetKey): Promise<Carried> {
    const vehicleId = (await this.directory.find(key.deviceId))?.vehicleId ?? null
    return { vehicleId, shipment: await this.loadPlan(key, vehicleId) }
  }

  private async loadFences(tenantId: string): Promise<GeofenceIndex | null> {
    const { rows } = await this.pool.query<{ id: string, kind: 'circle' | 'polygon' | 'corridor', geometry: unknown, radius_m: number | null, width_m: number | null }>(
      'SELECT id, kind, geometry, radius_m, width_m FROM geofences WHERE tenant_id = $1 AND stop_id IS NULL', [tenantId])
    if (rows.length === 0) return null
    const entries: FenceEntry[] = []
    for (const r of rows) {
      try { entries.push({ id: r.id, shape: fromGeoJSON(r.kind, r.geometry, r.radius_m ?? undefined, r.width_m ?? undefined) }) } catch (err) {
        this.log.warn({ err, geofence: r.id }, 'geofence skipped: invalid geometry')
      }
    }
    return new GeofenceIndex(entries)
  }

  private async loadPlan(key: AssetKey, vehicleId: string | null): Promise<ShipmentPlan | null> {
    const { rows: [s] } = await this.pool.query<{ id: string, reference: string, status: ShipmentStatus, vehicle_id: string | null, route: unknown, temp_min_c: number | null, temp_max_c: number | null }>(
      CARRIED_SHIPMENT_SQL, [key.tenantId, key.deviceId, vehicleId, ACTIVE])
    if (!s) return null
    const { rows } = await this.pool.query<{ id: string, seq: number, type: PlanStop['type'], name: string, lat: number, lon: number, radius_m: number, window_start: Date | null, window_end: Date | null, planned_dwell_s: number, status: StopStatus, arrived_at: Date | null, departed_at: Date | null }>(
      'SELECT * FROM stops WHERE tenant_id = $1 AND shipment_id = $2 ORDER BY seq', [key.tenantId, s.id])
    const stops: PlanStop[] = rows.map((r) => ({
      id: r.id, seq: r.seq, type: r.type, name: r.name, lat: r.lat, lon: r.lon, radiusM: r.radius_m,
      windowStart: r.window_start?.getTime() ?? null, windowEnd: r.window_end?.getTime() ?? null, plannedDwellS: r.planned_dwell_s,
      status: r.status, arrivedAt: r.arrived_at?.getTime() ?? null, departedAt: r.departed_at?.getTime() ?? null,
    }))
    let onRoute: Pick<ShipmentPlan, 'route' | 'stopAlongM' | 'stopOffRouteM'> = { route: null, stopAlongM: null, stopOffRouteM: null }
    if (s.route) {
      try {
        const route = RouteLine.fromGeoJSON(s.route)
        onRoute = { route, ...stopsOnRoute(route, stops) }
      } catch (err) {
        this.log.warn({ err, shipment: s.id }, 'planned route ignored: invalid geometry')
      }
    }
    return { id: s.id, tenantId: key.tenantId, reference: s.reference, status: s.status, vehicleId: s.vehicle_id, stops, ...onRoute, tempMinC: s.temp_min_c, tempMaxC: s.temp_max_c }
  }
}
