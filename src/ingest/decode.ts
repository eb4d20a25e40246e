// Turns a device's raw payload into fixes (or device events) and rejections, each with a reason.
// One bad element of a batch is rejected alone; the rest of the batch goes on. An element that
// PostgreSQL cannot store (db/storable.ts) is rejected here too: written, it would fail the whole
// group-commit batch, other devices' readings included.
import { Ajv, type ValidateFunction } from 'ajv'
import { deviceEventSchema, readingSchema, statusSchema } from '../contracts/schemas.js'
import { eventTimeMs, type DeviceEventPayload, type Fix, type Reading } from '../contracts/payloads.js'
import { unstorable } from '../db/storable.js'
import { eventTypes } from '../core/events/catalogue.js'

export type RejectCode = 'MALFORMED_JSON' | 'SCHEMA' | 'BAD_TIME' | 'BATCH_TOO_LARGE' | 'EMPTY_BATCH'

export interface Rejection {
  code: RejectCode
  reason: string
  /** index in the batch, when the payload was an array */
  index?: number
}

export interface DeviceEvent {
  tenantId: string
  deviceId: string
  ts: number
  type: string
  seq?: number | undefined
  lat?: number | undefined
  lon?: number | undefined
  data: Record<string, unknown>
}

export interface Decoded<T> {
  items: T[]
  rejections: Rejection[]
  /** the payload was a JSON array: positions in it are reported with each drop or rejection */
  batch: boolean
  /** for each item, its position in the payload (rejected elements leave gaps) */
  indices: number[]
}

/** 1970 to the end of 9999: what every reader of the time (PostgreSQL, ISO 8601 in the API) can hold. */
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

const ajv = new Ajv({ allErrors: false, strict: false })
const validateReading = ajv.compile<Reading>(readingSchema)
const validateEvent = ajv.compile<DeviceEventPayload>(deviceEventSchema)
const validateStatus = ajv.compile(statusSchema)

function describe(validate: ValidateFunction): string {
  const e = validate.errors?.[0]
  if (!e) return 'does not match the schema'
  return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`
}

function parse(payload: Buffer): { ok: true, value: unknown, escapes: boolean } | { ok: false, rejection: Rejection } {
  const text = payload.toString('utf8')
  try {
    return { ok: true, value: JSON.parse(text) as unknown, escapes: text.includes('\\u') }
  } catch (err) {
    return { ok: false, rejection: { code: 'MALFORMED_JSON', reason: `not JSON: ${(err as Error).message.slice(0, 120)}` } }
  }
}

/**
 * `nested`: the schema lets elements nest without bound (events' `data`), so their depth is checked.
 * `refuse`: what the schema cannot say about a valid element (a reason, or null when it is fine).
 */
function decodeList<P extends { ts: number | string }, T>(
  payload: Buffer, maxBatch: number, validate: ValidateFunction<P>, nested: boolean, build: (p: P, ts: number) => T,
  refuse?: (p: P) => string | null,
): Decoded<T> {
  const parsed = parse(payload)
  if (!parsed.ok) return { items: [], rejections: [parsed.rejection], batch: false, indices: [] }
  const batch = Array.isArray(parsed.value)
  const list: unknown[] = batch ? parsed.value as unknown[] : [parsed.value]
  const refused = (rejection: Rejection): Decoded<T> => ({ items: [], rejections: [rejection], batch, indices: [] })
  if (list.length === 0) return refused({ code: 'EMPTY_BATCH', reason: 'empty batch' })
  if (list.length > maxBatch) return refused({ code: 'BATCH_TOO_LARGE', reason: `batch of ${list.length} exceeds the limit of ${maxBatch}` })
  const out: Decoded<T> = { items: [], rejections: [], batch, indices: [] }
  list.forEach((element, i) => {
    const at = batch ? { index: i } : {}
    if (!validate(element)) return out.rejections.push({ code: 'SCHEMA', reason: describe(validate), ...at })
    const refusal = refuse?.(element)
    if (refusal) return out.rejections.push({ code: 'SCHEMA', reason: refusal, ...at })
    const problem = parsed.escapes || nested ? unstorable(element, { text: parsed.escapes }) : null
    if (problem) return out.rejections.push({ code: 'SCHEMA', reason: `${problem.path || '(root)'} ${problem.reason}`, ...at })
    const ts = eventTimeMs(element.ts)
    if (!Number.isFinite(ts)) return out.rejections.push({ code: 'BAD_TIME', reason: `ts ${JSON.stringify(element.ts)} is not epoch ms or ISO 8601`, ...at })
    if (ts < 0 || ts > LATEST_MS) return out.rejections.push({ code: 'BAD_TIME', reason: `ts ${JSON.stringify(element.ts)} is outside 1970–9999`, ...at })
    out.items.push(build(element, ts))
    out.indices.push(i)
  })
  return out
}

export function decodeTelemetry(payload: Buffer, tenantId: string, deviceId: string, receivedAt: number, maxBatch: number): Decoded<Fix> {
  return decodeList(payload, maxBatch, validateReading, false, (r, ts) => ({
    tenantId, deviceId, ts, receivedAt, lat: r.lat, lon: r.lon,
    speed: r.speed, heading: r.heading, alt: r.alt, accuracy: r.accuracy, battery: r.battery, seq: r.seq, attrs: r.attrs,
  }))
}

/**
 * A device event may not take the type of one of ReTrack's own events (arrived, delivered,
 * exception…): stored and published on `tenants/<t>/events/<type>`, it would pass for a milestone
 * or an operator's record to every integration that does not check `source`.
 */
function reservedType(e: DeviceEventPayload): string | null {
  return eventTypes.has(e.type)
    ? `/type "${e.type}" is reserved for ReTrack's own events (docs/events.md): name the device's event differently (e.g. delivery_confirmed)`
    : null
}

export function decodeEvents(payload: Buffer, tenantId: string, deviceId: string, maxBatch: number): Decoded<DeviceEvent> {
  return decodeList(payload, maxBatch, validateEvent, true, (e, ts) => ({
    tenantId, deviceId, ts, type: e.type, seq: e.seq, lat: e.lat, lon: e.lon, data: e.data ?? {},
  }), reservedType)
}

export function decodeStatus(payload: Buffer): { state: 'online' | 'offline', ts?: number } | Rejection {
  const text = payload.toString('utf8').trim()
  if (text === 'online' || text === 'offline') return { state: text }
  const parsed = parse(payload)
  if (!parsed.ok) return parsed.rejection
  if (!validateStatus(parsed.value)) return { code: 'SCHEMA', reason: describe(validateStatus) }
  const value = parsed.value as string | { state: 'online' | 'offline', ts?: number | string }
  if (typeof value === 'string') return { state: value as 'online' | 'offline' }
  const ts = value.ts === undefined ? undefined : eventTimeMs(value.ts)
  return { state: value.state, ...(ts !== undefined && Number.isFinite(ts) ? { ts } : {}) }
}
