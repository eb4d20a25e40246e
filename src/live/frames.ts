// What travels on the bus between nodes and out to live subscribers. Events are turned into their
// public shape (TrackingEventMessage) once, by the node that stored them, so every node and every
// transport (SSE, MQTT) sends exactly the same document.
import type { Fix, LivePosition, TrackingEventMessage } from '../contracts/payloads.js'
import type { StoredTrackingEvent } from '../db/tracking-events.js'

/** Bus channels: every node subscribes to both and delivers to its own subscribers only. */
export const EVENTS_CHANNEL = 'live:events'
export const POSITIONS_CHANNEL = 'live:positions'

/** Bus messages carry the tenant once; every item inside belongs to it. */
export interface EventsMessage { tenantId: string, events: TrackingEventMessage[] }
export interface PositionsMessage { tenantId: string, positions: LivePosition[] }

/** What a subscriber receives. */
export type LiveFrame =
  | { kind: 'event', event: TrackingEventMessage }
  | { kind: 'positions', positions: LivePosition[] }

export function toMessage(e: StoredTrackingEvent): TrackingEventMessage {
  return {
    id: e.id, type: e.type, ts: new Date(e.ts).toISOString(), source: e.source,
    shipmentId: e.shipmentId ?? null, stopId: e.stopId ?? null, vehicleId: e.vehicleId ?? null, deviceId: e.deviceId ?? null,
    payload: e.payload,
  }
}

export function toPosition(fix: Fix, vehicleId: string | null): LivePosition {
  return {
    deviceId: fix.deviceId, ...(vehicleId ? { vehicleId } : {}), ts: new Date(fix.ts).toISOString(),
    lat: fix.lat, lon: fix.lon, speed: fix.speed ?? null, heading: fix.heading ?? null,
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/** Messages from Redis are parsed JSON of unknown origin: check the envelope before trusting it. */
export function isEventsMessage(m: unknown): m is EventsMessage {
  return isObject(m) && typeof m['tenantId'] === 'string' && Array.isArray(m['events'])
}

export function isPositionsMessage(m: unknown): m is PositionsMessage {
  return isObject(m) && typeof m['tenantId'] === 'string' && Array.isArray(m['positions'])
}
