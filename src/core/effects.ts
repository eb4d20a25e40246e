// Changes the processors make to shipments and stops. They are applied to the database only after
// the asset's state was written (like events), by an adapter that never lets a status go backward.
import type { EtaStatus } from '../geo/eta.js'
import type { ShipmentStatus, StopStatus } from './context.js'

export type CoreEffect =
  | { kind: 'stop', tenantId: string, shipmentId: string, stopId: string, status: StopStatus, arrivedAt?: number, departedAt?: number }
  | { kind: 'shipment', tenantId: string, shipmentId: string, status: ShipmentStatus, at: number }
  | { kind: 'eta', tenantId: string, shipmentId: string, stopId: string, eta: number | null, etaStatus: EtaStatus, at: number }
