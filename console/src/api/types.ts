// The shapes the console reads from the ReTrack API (docs/api.md; /openapi.json is the reference).
// Only the fields the console uses are listed. The wire shapes of events and positions are the
// server's own (src/contracts, type-only: nothing of the server reaches the bundle).

export type Role = 'admin' | 'operator' | 'viewer'

export interface SessionUser {
  id: string
  email: string
  name: string
  role: Role
  platformAdmin: boolean
  tenant: { id: string, slug: string, name: string }
}

/** POST /auth/login and /auth/refresh */
export interface SessionResponse {
  accessToken: string
  expiresIn: number
  refreshToken: string
  user: Omit<SessionUser, 'role'> & { role: string }
}

export interface Page<T> { items: T[], total: number, limit: number, offset: number }

export type ShipmentStatus = 'planned' | 'assigned' | 'in_transit' | 'at_stop' | 'delivered' | 'cancelled' | 'exception'
export type StopStatus = 'pending' | 'arrived' | 'departed' | 'skipped'
export type EtaStatus = 'unknown' | 'on_time' | 'at_risk' | 'late'

export interface NextStop { id: string, seq: number, name: string, eta: string | null, etaStatus: EtaStatus }

interface ShipmentFields {
  id: string
  reference: string
  status: ShipmentStatus
  vehicleId: string | null
  deviceId: string | null
  notes: string | null
  createdAt: string
  startedAt: string | null
  deliveredAt: string | null
  cancelledAt: string | null
}

export interface ShipmentSummary extends ShipmentFields {
  stopsCount: number
  nextStop: NextStop | null
}

export interface Stop {
  id: string
  seq: number
  type: 'pickup' | 'delivery' | 'waypoint'
  name: string
  address: string | null
  lat: number
  lon: number
  radiusM: number
  windowStart: string | null
  windowEnd: string | null
  status: StopStatus
  arrivedAt: string | null
  departedAt: string | null
  eta: string | null
  etaStatus: EtaStatus
}

export interface LineString { type: 'LineString', coordinates: number[][] }

export interface ShipmentDetail extends ShipmentFields {
  route: LineString | null
  stops: Stop[]
}

export interface Presence { online: boolean, lastSeenAt: string | null, lastFixAt: string | null }

export interface Device {
  id: string
  name: string
  vehicleId: string | null
  enabled: boolean
  createdAt: string
  presence?: Presence
}

export interface Vehicle { id: string, name: string, plate: string | null }

/** POST /devices: the secret is in this answer only. */
export interface DeviceCredentials {
  device: Device
  secret: string
  mqtt: { clientId: string, username: string, telemetryTopic: string }
}

/** One tracking event, as the timeline and the live stream carry it; a live map position. */
export type { TrackingEventMessage as TrackingEvent, LivePosition } from '../../../src/contracts/payloads.js'

/** Manual events an operator records on a shipment (POST /shipments/{id}/events). */
export type ManualEvent =
  | { type: 'exception', code: string, note?: string }
  | { type: 'proof_of_delivery', name: string, time: string, note?: string }
  | { type: 'comment', text: string }

/** What the node tells the console about itself (GET /console-config.json). */
export interface ConsoleConfig { mqtt: { port: number | null, tlsPort: number | null } }
