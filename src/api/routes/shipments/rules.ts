// What a shipment's status allows, and the checks JSON Schema cannot express (one field against
// another, references into the tenant).
import { AppError } from '../../../errors.js'
import type { TenantDb } from '../../../db/tenant-scope.js'
import { assertReferences, type CrudResource } from '../crud.js'
import type { ShipmentStatus } from './schemas.js'

/** Delivered and cancelled shipments are records: no more assignments, stop changes or cancelling. */
export const CLOSED: ShipmentStatus[] = ['delivered', 'cancelled']
/** Deleting is for mistakes, before anything happened, or for cancelled shipments; history stays otherwise. */
export const DELETABLE: ShipmentStatus[] = ['planned', 'assigned', 'cancelled']

export function assertOpen(shipment: { status: ShipmentStatus }, action: string): void {
  if (CLOSED.includes(shipment.status)) {
    throw new AppError(409, 'SHIPMENT_CLOSED', `cannot ${action}: the shipment is ${shipment.status}`)
  }
}

type Bound = string | number | Date | null | undefined
const value = (b: Bound) => (b instanceof Date ? b.getTime() : typeof b === 'string' ? Date.parse(b) : b)

/** `low` ≤ `high` when both are set; the message names both fields. */
export function assertOrdered(lowName: string, low: Bound, highName: string, high: Bound): void {
  const a = value(low)
  const b = value(high)
  if (a !== null && a !== undefined && b !== null && b !== undefined && a > b) {
    throw new AppError(400, 'INVALID_RANGE', `${lowName} must not be after ${highName}`, { fields: [lowName, highName] })
  }
}

const references: CrudResource['references'] = {
  carrierId: { noun: 'carrier', delegate: (db) => db.carrier },
  vehicleId: { noun: 'vehicle', delegate: (db) => db.vehicle },
  driverId: { noun: 'driver', delegate: (db) => db.driver },
  deviceId: { noun: 'device', delegate: (db) => db.device },
}

/** Every carrier, vehicle, driver and device named must be the caller's tenant's: 404 otherwise. */
export const assertAssignable = (db: TenantDb, body: Record<string, unknown>) => assertReferences(db, body, references)

/** A vehicle or a device is what makes a shipment trackable, so it is what "assigned" means. */
export function assignmentStatus(current: ShipmentStatus, next: { vehicleId: string | null, deviceId: string | null }): ShipmentStatus {
  const trackable = next.vehicleId !== null || next.deviceId !== null
  if (current === 'planned' && trackable) return 'assigned'
  if (current === 'assigned' && !trackable) return 'planned'
  return current
}
