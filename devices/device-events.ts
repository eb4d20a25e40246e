// Stop transitions of the vehicle model → device events a tracker with door sensors and a driver app
// would send: door_open shortly after arriving at a pickup or delivery, door_close shortly before
// leaving, delivery_confirmed when leaving a delivery stop.
import type { DeviceEventPayload } from '../src/contracts/payloads.js'
import type { MotionEvent } from './motion/vehicle.js'
import type { RouteStop } from './routes.js'

/** Seconds between arriving and opening the doors (and closing them and leaving), at most. */
const DOOR_DELAY_S = 60

export interface EventContext { trip: number, shipmentId?: string | undefined }

export function stopEvents(event: MotionEvent, stop: RouteStop, ctx: EventContext): DeviceEventPayload[] {
  if (stop.plannedDwellS <= 0 || stop.type === 'waypoint') return []
  const delayMs = Math.min(DOOR_DELAY_S, stop.plannedDwellS / 4) * 1000
  const data = { stop: stop.name, stopIndex: event.stop, stopType: stop.type, trip: ctx.trip, ...(ctx.shipmentId ? { shipmentId: ctx.shipmentId } : {}) }
  const at = (ts: number, type: string): DeviceEventPayload => ({ ts: Math.round(ts), type, lat: stop.lat, lon: stop.lon, data })
  if (event.kind === 'arrived') return [at(event.t + delayMs, 'door_open')]
  const out = [at(event.t - delayMs, 'door_close')]
  if (stop.type === 'delivery') out.push(at(event.t, 'delivery_confirmed'))
  return out
}
