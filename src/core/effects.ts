// Changes the processors make to shipments and stops, and the paces an asset hands to its fleet.
// They are applied to the database only after the asset's state was written (like events), by an
// adapter that never lets a status go backward.
import type { EtaStatus, SpeedHistogram } from '../geo/eta.js'
import type { ShipmentStatus, StopStatus } from './context.js'

export type CoreEffect =
  | { kind: 'stop', tenantId: string, shipmentId: string, stopId: string, status: StopStatus, arrivedAt?: number, departedAt?: number }
  | { kind: 'shipment', tenantId: string, shipmentId: string, status: ShipmentStatus, at: number }
  | { kind: 'eta', tenantId: string, shipmentId: string, stopId: string, eta: number | null, etaStatus: EtaStatus, at: number }
  /** a leg's paces for the tenant's fleet pace (features/fleet-pace.ts) */
  | { kind: 'pace', tenantId: string, open?: SpeedHistogram, near?: SpeedHistogram }
