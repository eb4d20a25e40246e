// The API calls the console makes, typed. Paths are relative: the console is served by the node
// it talks to (same origin, no CORS, nothing leaves the host).
import { query, type Http } from './http.js'
import { toLivePosition, toTrackingEvents } from './guards.js'
import type {
  ConsoleConfig, Device, DeviceCredentials, LivePosition, ManualEvent, Page, ShipmentDetail, ShipmentStatus, ShipmentSummary, TrackingEvent, Vehicle,
} from './types.js'

export interface ShipmentFilter { status?: ShipmentStatus[], q?: string, limit?: number, offset?: number }

const id = encodeURIComponent

export function createEndpoints(http: Http) {
  return {
    shipments: (f: ShipmentFilter = {}) =>
      http.get<Page<ShipmentSummary>>(`/api/v1/shipments${query({ status: f.status, q: f.q, limit: f.limit ?? 50, offset: f.offset ?? 0 })}`),
    shipment: (shipmentId: string) => http.get<ShipmentDetail>(`/api/v1/shipments/${id(shipmentId)}`),
    /** the shipment's events in event-time order, following pages up to a bound */
    async timeline(shipmentId: string, maxPages = 10): Promise<TrackingEvent[]> {
      const events: TrackingEvent[] = []
      let after: string | undefined
      for (let page = 0; page < maxPages; page++) {
        const body = await http.get<{ items: unknown, nextCursor: string | null }>(`/api/v1/shipments/${id(shipmentId)}/timeline${query({ limit: 500, after })}`)
        events.push(...toTrackingEvents(body.items))
        if (!body.nextCursor) break
        after = body.nextCursor
      }
      return events
    },
    recordEvent: (shipmentId: string, event: ManualEvent) => http.post<{ shipment: { status: ShipmentStatus }, events: unknown }>(`/api/v1/shipments/${id(shipmentId)}/events`, event),
    cancel: (shipmentId: string, reason?: string) =>
      http.post<ShipmentDetail>(`/api/v1/shipments/${id(shipmentId)}/cancel`, reason ? { reason } : {}),

    vehicles: (limit = 500) => http.get<Page<Vehicle>>(`/api/v1/vehicles${query({ limit })}`),
    devices: (limit = 500) => http.get<Page<Device>>(`/api/v1/devices${query({ limit })}`),
    createDevice: (name: string) => http.post<DeviceCredentials>('/api/v1/devices', { name }),
    /** the device's last accepted fix, or null when it has none yet */
    async devicePosition(deviceId: string): Promise<LivePosition | null> {
      const state = await http.get<{ lastFix: unknown }>(`/api/v1/devices/${id(deviceId)}/state`)
      return toLivePosition(state.lastFix, deviceId)
    },

    /** public and tiny: what the node tells devices to connect to */
    async config(): Promise<ConsoleConfig> {
      const unknown: ConsoleConfig = { mqtt: { port: null, tlsPort: null } }
      try {
        const response = await fetch('/console-config.json')
        return response.ok ? await response.json() as ConsoleConfig : unknown
      } catch {
        return unknown // never worth losing a just-shown device secret over
      }
    },
  }
}

export type Endpoints = ReturnType<typeof createEndpoints>
