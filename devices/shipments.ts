// The run's shipments in ReTrack: first the open shipments of the devices and vehicles it drives are
// closed (ReTrack gives a device's readings to its open shipment under way, so a shipment left from
// an earlier run would take this run's readings and the new ones would never move), then one
// shipment per planned trip that ends within the run.
import type { SimConfig } from './config.js'
import type { DeviceCredential } from './credentials.js'
import { ApiError, mapLimited, shipmentStops, type ApiClient, type ShipmentSummary } from './provision.js'
import type { VehiclePlan } from './setup.js'

/** References of the shipments the simulator creates: `SIM-<run>-<vehicle>-<trip>`. */
export const SIM_REFERENCE_PREFIX = 'SIM-'

/** A reefer load's allowed range around the set point (`--temp`): excursions (+6…12 °C) leave it. */
export const TEMP_BAND_C = 3

const IN_FLIGHT = 8

/** Thrown when open shipments someone else created would take the run's readings (exit 1). */
export class ForeignShipmentsError extends Error {}

/**
 * Cancels the open shipments (assigned, in transit, at a stop, exception) naming these devices or
 * their vehicles. The simulator's own (reference `SIM-…`) always; others only with `--cancel-open`,
 * else the run is refused before anything is cancelled. Returns how many were cancelled.
 */
export async function closeOpenShipments(api: ApiClient, credentials: readonly DeviceCredential[], cancelOpen: boolean, runTag: string,
  log: (line: string) => void): Promise<number> {
  const vehicleIds = [...new Set(credentials.flatMap((d) => d.vehicleId ? [d.vehicleId] : []))]
  const filters = [...credentials.map((d) => ({ deviceId: d.deviceId })), ...vehicleIds.map((vehicleId) => ({ vehicleId }))]
  const found = new Map<string, ShipmentSummary>()
  for (const page of await mapLimited(filters, IN_FLIGHT, (f) => api.openShipments(f))) for (const s of page) found.set(s.id, s)
  const open = [...found.values()]
  if (open.length === 0) return 0
  const foreign = open.filter((s) => !s.reference.startsWith(SIM_REFERENCE_PREFIX))
  if (foreign.length > 0 && !cancelOpen) {
    const e = foreign[0]!
    throw new ForeignShipmentsError(`${foreign.length} open shipment(s) of these devices or their vehicles were not created by the simulator ` +
      `(e.g. ${e.reference}, ${e.status}, ${e.deviceId ? `device ${e.deviceId}` : `vehicle ${e.vehicleId}`}): ReTrack would give them this run's readings. ` +
      'Close them first, or give --cancel-open to have the simulator cancel them')
  }
  let cancelled = 0
  await mapLimited(open, IN_FLIGHT, async (s) => {
    try {
      await api.cancelShipment(s.id, `simulator: a new run (${runTag}) of this device starts; this shipment would take its readings`)
      cancelled++
    } catch (err) {
      // delivered or cancelled meanwhile (e.g. its last departure was still being processed): closed all the same
      if (!(err instanceof ApiError && err.status === 409)) throw err
    }
  })
  const underWay = open.filter((s) => s.status !== 'assigned').length
  log(`cancelled ${cancelled} open shipment(s) of these devices left from an earlier run (${underWay} under way, ${open.length - underWay} assigned), ` +
    'so this run\'s readings go to its own shipments')
  return cancelled
}

/** One shipment per vehicle trip that ends within the run (`trip.shipped`), with appointment windows in simulated time. */
export async function createShipments(api: ApiClient, plans: VehiclePlan[], c: SimConfig, runTag: string, log: (line: string) => void) {
  const work = plans.flatMap((p) => p.credential.vehicleId ? p.trips.filter((t) => t.shipped).map((trip) => ({ p, trip })) : [])
  const unshipped = plans.reduce((n, p) => n + (p.credential.vehicleId ? p.trips.filter((t) => !t.shipped).length : 0), 0)
  if (unshipped > 0) log(`${unshipped} trip(s) would not end within --duration: driven without a shipment`)
  if (work.length === 0) return
  log(`creating ${work.length} shipments`)
  await mapLimited(work, IN_FLIGHT, async ({ p, trip }) => {
    const reference = `${SIM_REFERENCE_PREFIX}${runTag}-${p.index + 1}-${trip.index + 1}`
    trip.reference = reference
    trip.shipmentId = await api.createShipment({
      reference, vehicleId: p.credential.vehicleId!, deviceId: p.credential.deviceId,
      route: { type: 'LineString', coordinates: trip.route.path.coordinates() }, stops: shipmentStops(trip.stops, c.windowMin),
      ...(c.temp !== undefined ? { tempMinC: c.temp - TEMP_BAND_C, tempMaxC: c.temp + TEMP_BAND_C } : {}),
    })
  })
}
