// What the processors need to know about an asset beyond its own state: the tenant's geofences and
// the shipment it is carrying (plan: stops, windows, route). Loaded once per group of fixes by the
// AssetContextLoader port (cached by the adapter, refreshed when the configuration changes).
import type { GeofenceIndex } from '../geo/fence-index.js'
import type { RouteLine } from '../geo/route.js'
import type { AssetKey } from './ports.js'
import type { FleetPace } from './features/fleet-pace.js'

export type StopStatus = 'pending' | 'arrived' | 'departed' | 'skipped'
export type ShipmentStatus = 'planned' | 'assigned' | 'in_transit' | 'at_stop' | 'delivered' | 'cancelled' | 'exception'

export interface PlanStop {
  id: string
  seq: number
  type: 'pickup' | 'delivery' | 'waypoint'
  name: string
  lat: number
  lon: number
  radiusM: number
  windowStart: number | null
  windowEnd: number | null
  plannedDwellS: number
  /** as stored (an operator may have skipped it) */
  status: StopStatus
  arrivedAt: number | null
  departedAt: number | null
}

export interface ShipmentPlan {
  id: string
  tenantId: string
  reference: string
  status: ShipmentStatus
  vehicleId: string | null
  stops: PlanStop[]
  route: RouteLine | null
  /** metres along the route of each stop (same order as stops), when there is a route */
  stopAlongM: number[] | null
  /** metres from each stop to the route where it is located (a stop beside it, or past its end) */
  stopOffRouteM: number[] | null
  tempMinC: number | null
  tempMaxC: number | null
}

export interface AssetContext {
  vehicleId: string | null
  /** the tenant's own geofences (stop fences are handled per shipment) */
  fences: GeofenceIndex | null
  shipment: ShipmentPlan | null
  /** the tenant's fleet pace (features/fleet-pace.ts); absent or null: none learned yet */
  fleetPace?: FleetPace | null
}

export interface AssetContextLoader {
  /** a context the adapter already holds may come back as is: the pipeline awaits only a promise */
  load(key: AssetKey): AssetContext | Promise<AssetContext>
}

/**
 * Where each stop lies on the planned route, each located after the one before (a route may pass
 * the same place twice, e.g. a depot at both ends).
 */
export function stopsOnRoute(route: RouteLine, stops: readonly PlanStop[]): Pick<ShipmentPlan, 'stopAlongM' | 'stopOffRouteM'> {
  let hint: number | undefined
  const matches = stops.map((stop) => {
    const match = route.locate([stop.lon, stop.lat], hint, { forwardM: route.lengthM })
    hint = match.alongM
    return match
  })
  return { stopAlongM: matches.map((m) => m.alongM), stopOffRouteM: matches.map((m) => m.offsetM) }
}

export const noContext: AssetContext = { vehicleId: null, fences: null, shipment: null }

/** Typed access to one processor's slice of the asset state (created on first use). */
export function feature<T extends object>(features: Record<string, unknown>, name: string, init: () => T): T {
  let value = features[name] as T | undefined
  if (value === undefined) {
    value = init()
    features[name] = value
  }
  return value
}
