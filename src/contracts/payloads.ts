// Payload types of the MQTT contract. JSON Schemas for the same shapes are in ./schemas.ts.
import type { Static } from 'typebox'
import type { trackingEventSchema } from './schemas.js'

/** Event time: epoch milliseconds or an ISO 8601 string. */
export type EventTime = number | string

/** One position/sensor reading, as a device sends it on `telemetry`. */
export interface Reading {
  ts: EventTime
  lat: number
  lon: number
  /** m/s */
  speed?: number
  /** degrees clockwise from north */
  heading?: number
  /** metres */
  alt?: number
  /** metres (radius of the 68% circle) */
  accuracy?: number
  /** percent */
  battery?: number
  /** device counter, stored with the reading; readings are deduplicated by (device, ts), not by seq (docs/mqtt.md) */
  seq?: number
  /** free sensor values, e.g. { temp: 4.2 } (°C) */
  attrs?: Record<string, number | string | boolean | null>
}

/** A device-originated event on `events`: sos, door_open, door_close, delivery_confirmed, or custom. */
export interface DeviceEventPayload {
  ts: EventTime
  type: string
  lat?: number
  lon?: number
  seq?: number
  data?: Record<string, unknown>
}

/** On `status`, and as the Last Will ("offline", retained is not needed). */
export type StatusPayload = { state: 'online' | 'offline', ts?: EventTime } | 'online' | 'offline'

/** Server to device on `commands`. */
export interface Command {
  id: string
  type: string
  ts: number
  data?: Record<string, unknown>
}

/** What ReTrack publishes on `tenants/{tenant}/events/{type}` and streams over SSE (schema: trackingEventSchema). */
export type TrackingEventMessage = Static<typeof trackingEventSchema>

/** The latest position of one device, as the live stream's `positions` frames carry it and a map draws it. */
export interface LivePosition {
  deviceId: string
  vehicleId?: string
  ts: string
  lat: number
  lon: number
  /** m/s, null when the device did not say */
  speed: number | null
  /** degrees, null when the device did not say */
  heading: number | null
}

/** A reading after decoding: event time in epoch ms, tenant and device attached. */
export interface Fix {
  tenantId: string
  deviceId: string
  ts: number
  receivedAt: number
  lat: number
  lon: number
  speed?: number | undefined
  heading?: number | undefined
  alt?: number | undefined
  accuracy?: number | undefined
  battery?: number | undefined
  seq?: number | undefined
  attrs?: Record<string, number | string | boolean | null> | undefined
}

/** Epoch ms of an event time, or NaN when it is not one. */
export function eventTimeMs(ts: EventTime): number {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : Number.NaN
  // ISO 8601 only: Date.parse would also take "March 7" and friends
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(ts)) return Number.NaN
  return Date.parse(ts)
}
