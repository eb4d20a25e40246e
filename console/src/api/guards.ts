// Checks for data that arrives as parsed JSON of unknown shape: live stream frames, and the read
// routes whose answers wrap the same documents (a timeline page, a device's state).
import type { LivePosition, TrackingEvent } from './types.js'

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const numberOrNull = (v: unknown): number | null => (isNumber(v) ? v : null)
const isoTime = (v: unknown): string | null =>
  typeof v === 'string' ? v : isNumber(v) ? new Date(v).toISOString() : null

export function toTrackingEvent(v: unknown): TrackingEvent | null {
  if (!isRecord(v) || !isNumber(v['id']) || typeof v['type'] !== 'string') return null
  const ts = isoTime(v['ts'])
  if (!ts) return null
  const source = v['source'] === 'device' || v['source'] === 'user' ? v['source'] : 'rule'
  return {
    id: v['id'], type: v['type'], ts, source,
    shipmentId: stringOrNull(v['shipmentId']), stopId: stringOrNull(v['stopId']),
    vehicleId: stringOrNull(v['vehicleId']), deviceId: stringOrNull(v['deviceId']),
    payload: isRecord(v['payload']) ? v['payload'] : {},
  }
}

/** A list of events, bare or as a page (`{ items }`). */
export function toTrackingEvents(v: unknown): TrackingEvent[] {
  const list: unknown[] = Array.isArray(v) ? v : isRecord(v) && Array.isArray(v['items']) ? v['items'] : []
  return list.map(toTrackingEvent).filter((e): e is TrackingEvent => e !== null)
}

export function toLivePosition(v: unknown, deviceId?: string): LivePosition | null {
  if (!isRecord(v) || !isNumber(v['lat']) || !isNumber(v['lon'])) return null
  const id = typeof v['deviceId'] === 'string' ? v['deviceId'] : deviceId
  const ts = isoTime(v['ts'])
  if (!id || !ts) return null
  return {
    deviceId: id, ...(typeof v['vehicleId'] === 'string' ? { vehicleId: v['vehicleId'] } : {}),
    ts, lat: v['lat'], lon: v['lon'], speed: numberOrNull(v['speed']), heading: numberOrNull(v['heading']),
  }
}

export function toLivePositions(v: unknown): LivePosition[] {
  return Array.isArray(v) ? v.map((p) => toLivePosition(p)).filter((p): p is LivePosition => p !== null) : []
}
