// Which frames a subscriber wants. All fields narrow (AND); an absent field does not filter.
import type { LivePosition, TrackingEventMessage } from '../contracts/payloads.js'

export interface LiveFilter {
  shipmentId?: string
  deviceId?: string
  vehicleId?: string
  /** event types; empty or absent = every type */
  types?: string[]
  /** positions frames are sent only when asked for (a map needs them, a timeline does not) */
  positions?: boolean
  /**
   * Positions are not tagged with shipments: with `shipmentId`, the caller resolves what carries
   * the shipment (its device, its vehicle) and positions of those pass.
   */
  shipmentAsset?: { deviceId: string | null, vehicleId: string | null }
}

export function eventMatches(f: LiveFilter, e: TrackingEventMessage): boolean {
  if (f.shipmentId !== undefined && e.shipmentId !== f.shipmentId) return false
  if (f.deviceId !== undefined && e.deviceId !== f.deviceId) return false
  if (f.vehicleId !== undefined && e.vehicleId !== f.vehicleId) return false
  if (f.types && f.types.length > 0 && !f.types.includes(e.type)) return false
  return true
}

export function positionMatches(f: LiveFilter, p: LivePosition): boolean {
  if (f.deviceId !== undefined && p.deviceId !== f.deviceId) return false
  if (f.vehicleId !== undefined && p.vehicleId !== f.vehicleId) return false
  if (f.shipmentId !== undefined) {
    const asset = f.shipmentAsset
    if (!asset) return false
    const byDevice = asset.deviceId !== null && p.deviceId === asset.deviceId
    const byVehicle = asset.vehicleId !== null && p.vehicleId === asset.vehicleId
    if (!byDevice && !byVehicle) return false
  }
  return true
}
