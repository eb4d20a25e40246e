// The API calls the console makes, typed. Paths are relative: the console is served by the node
// it talks to (same origin, no CORS, nothing leaves the host).
import { query, type Http } from './http.js'
import { toLivePosition, toTrackingEvents } from './guards.js'
import type {
  ConsoleConfig, Device, DeviceCredentials, LivePosition, ManualEvent, Page, ShipmentDetail, ShipmentStatus, ShipmentSummary, TrackingEvent, Vehicle,
} from './types.js'

export interface ShipmentFilter { status?: ShipmentStatus[], q?: string, limit?: number, offset?: number }

const id = encodeURIComponent

/** How many devices (and vehicles) the live map shows at most: beyond that, a browser tab would struggle anyway. */
export const MAP_MAX_DEVICES = 10_000
const LIST_PAGE = 500
const LATEST_PAGE = 1000

/** Every item of a list, page after page, up to `max`; `complete` is false when there were more. */
async function everything<T>(page: (limit: number, offset: number) => Promise<Page<T>>, max: number): Promise<{ items: T[], complete: boolean }> {
  const items: T[] = []
  for (;;) {
    const body = await page(LIST_PAGE, items.length)
    items.push(...body.items)
    if (items.length >= body.total || body.items.length === 0) return { items, complete: true }
    if (items.length >= max) return { items: items.slice(0, max), complete: false }
  }
}

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

    devices: (f: { q?: string, limit?: number, offset?: number } = {}) =>
      http.get<Page<Device>>(`/api/v1/devices${query({ q: f.q, limit: f.limit ?? 50, offset: f.offset ?? 0 })}`),
    allDevices: (max = MAP_MAX_DEVICES) => everything((limit, offset) => http.get<Page<Device>>(`/api/v1/devices${query({ limit, offset })}`), max),
    allVehicles: (max = MAP_MAX_DEVICES) => everything((limit, offset) => http.get<Page<Vehicle>>(`/api/v1/vehicles${query({ limit, offset })}`), max),
    /** the last accepted fix of every device that has one, in a page of 1,000 devices per request */
    async latestPositions(max = MAP_MAX_DEVICES): Promise<LivePosition[]> {
      const positions: LivePosition[] = []
      let cursor: string | undefined
      for (let seen = 0; seen < max;) {
        const body = await http.get<{ items: Array<{ deviceId: string, lastFix: unknown }>, nextCursor: string | null }>(
          `/api/v1/positions/latest${query({ limit: LATEST_PAGE, cursor })}`)
        seen += body.items.length
        for (const item of body.items) {
          const p = toLivePosition(item.lastFix, item.deviceId)
          if (p) positions.push(p)
        }
        if (!body.nextCursor) break
        cursor = body.nextCursor
      }
      return positions
    },
    createDevice: (name: string) => http.post<DeviceCredentials>('/api/v1/devices', { name }),
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
