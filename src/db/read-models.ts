// The read side of tracking: events (lists, a shipment's timeline, replay for live streams) and
// position history. Raw SQL through the pool on purpose: keyset paging on (ts, id) row values and
// the timeline's OR over two indexes are plain SQL and awkward in Prisma. Every statement starts
// with `tenant_id = $1`; the callers pass the tenant of the authenticated caller, never a request value.
import type pg from 'pg'
import type { TrackingEventMessage } from '../contracts/payloads.js'

export interface TrackingEventView extends TrackingEventMessage {
  userId: string | null
  createdAt: string
}

/** A position in the keyset order: event time, then id (ids break ties between equal times). */
export interface EventKey { ts: number, id: number }

export interface EventQuery {
  types?: string[]
  shipmentId?: string
  deviceId?: string
  vehicleId?: string
  from?: Date
  to?: Date
}

interface EventRow {
  id: number, type: string, ts: Date, source: TrackingEventMessage['source'], shipment_id: string | null, stop_id: string | null,
  vehicle_id: string | null, device_id: string | null, user_id: string | null, payload: Record<string, unknown>, created_at: Date
}

const EVENT_COLUMNS = 'id, type, ts, source::text AS source, shipment_id, stop_id, vehicle_id, device_id, user_id, payload, created_at'

const toView = (r: EventRow): TrackingEventView => ({
  id: r.id, type: r.type, ts: r.ts.toISOString(), source: r.source, shipmentId: r.shipment_id, stopId: r.stop_id,
  vehicleId: r.vehicle_id, deviceId: r.device_id, payload: r.payload, userId: r.user_id, createdAt: r.created_at.toISOString(),
})

export const keyOf = (e: { ts: string, id: number }): EventKey => ({ ts: Date.parse(e.ts), id: e.id })

/** Collects AND-ed conditions with numbered parameters; $1 is always the tenant. */
class Conditions {
  readonly params: unknown[]
  private readonly parts = ['tenant_id = $1']
  constructor(tenantId: string) { this.params = [tenantId] }
  /** `sql` uses `$?` for the one new parameter */
  add(sql: string, ...values: unknown[]): this {
    let text = sql
    for (const v of values) {
      const n = this.params.push(v)
      text = text.replace('$?', () => `$${n}`) // a function: a replacement string would treat `$n` as a pattern
    }
    this.parts.push(text)
    return this
  }
  get sql(): string { return this.parts.join(' AND ') }
  limit(n: number): string { this.params.push(n); return `LIMIT $${this.params.length}` }
}

function eventConditions(tenantId: string, q: EventQuery): Conditions {
  const c = new Conditions(tenantId)
  if (q.types && q.types.length > 0) c.add('type = ANY($?::text[])', q.types)
  if (q.shipmentId) c.add('shipment_id = $?::uuid', q.shipmentId)
  if (q.deviceId) c.add('device_id = $?', q.deviceId)
  if (q.vehicleId) c.add('vehicle_id = $?::uuid', q.vehicleId)
  if (q.from) c.add('ts >= $?', q.from)
  if (q.to) c.add('ts <= $?', q.to)
  return c
}

const beyond = (c: Conditions, order: 'asc' | 'desc', k: EventKey) =>
  c.add(`(ts, id) ${order === 'asc' ? '>' : '<'} ($?::timestamptz, $?::int8)`, new Date(k.ts), k.id)

/** One page of a tenant's events in (ts, id) order; `hasMore` tells whether another page follows. */
export async function listEvents(pool: pg.Pool, tenantId: string, q: EventQuery & { order: 'asc' | 'desc', limit: number, after?: EventKey }) {
  const c = eventConditions(tenantId, q)
  if (q.after) beyond(c, q.order, q.after)
  const dir = q.order === 'asc' ? 'ASC' : 'DESC'
  const { rows } = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM tracking_events WHERE ${c.sql} ORDER BY ts ${dir}, id ${dir} ${c.limit(q.limit + 1)}`, c.params)
  return { items: rows.slice(0, q.limit).map(toView), hasMore: rows.length > q.limit }
}

/**
 * Events stored after `afterId` (what a reconnecting live client missed), oldest first. When more
 * than `limit` match, the newest `limit` are returned and `truncated` is set.
 */
export async function eventsAfter(pool: pg.Pool, tenantId: string, afterId: number, q: EventQuery, limit: number) {
  const c = eventConditions(tenantId, q).add('id > $?::int8', afterId)
  const { rows } = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM tracking_events WHERE ${c.sql} ORDER BY id DESC ${c.limit(limit + 1)}`, c.params)
  return { events: rows.slice(0, limit).reverse().map(toView), truncated: rows.length > limit }
}

export interface TimelineScope {
  shipmentId: string
  /** the shipment's device, whose own (device-originated) events belong to the trip */
  deviceId: string | null
  /** the shipment's vehicle: the own events of the devices on it belong to the trip too (a shipment assigned by vehicle) */
  vehicleId?: string | null
  /** the trip's time span for those device events; `to` null = still open */
  from: Date
  to: Date | null
}

/**
 * A shipment's timeline in (ts, id) order: its own events plus device-originated events of its
 * device during the trip. `after` pages forward, `before` pages backward (items still ascending).
 */
export async function timeline(pool: pg.Pool, tenantId: string, scope: TimelineScope, page: { limit: number, after?: EventKey, before?: EventKey }) {
  const c = new Conditions(tenantId)
  const carriers = [...(scope.deviceId ? ['device_id = $?'] : []), ...(scope.vehicleId ? ['vehicle_id = $?::uuid'] : [])]
  if (carriers.length > 0) {
    c.add(`(shipment_id = $?::uuid OR (shipment_id IS NULL AND source = 'device' AND (${carriers.join(' OR ')}) AND ts >= $? AND ($?::timestamptz IS NULL OR ts <= $?::timestamptz)))`,
      scope.shipmentId, ...[scope.deviceId, scope.vehicleId].filter((id): id is string => !!id), scope.from, scope.to, scope.to)
  } else {
    c.add('shipment_id = $?::uuid', scope.shipmentId)
  }
  const backward = page.before !== undefined && page.after === undefined
  if (page.after) beyond(c, 'asc', page.after)
  if (page.before) beyond(c, 'desc', page.before)
  const dir = backward ? 'DESC' : 'ASC'
  const { rows } = await pool.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM tracking_events WHERE ${c.sql} ORDER BY ts ${dir}, id ${dir} ${c.limit(page.limit + 1)}`, c.params)
  const items = rows.slice(0, page.limit)
  if (backward) items.reverse()
  return { items: items.map(toView), hasMore: rows.length > page.limit }
}

export interface PositionView {
  ts: string, receivedAt: string, lat: number, lon: number, speed: number | null, heading: number | null, alt: number | null,
  accuracy: number | null, battery: number | null, seq: number | null, attrs: Record<string, unknown> | null, filterReason: string | null
}

interface PositionRow {
  ts: Date, received_at: Date, lat: number, lon: number, speed: number | null, heading: number | null, alt: number | null,
  accuracy: number | null, battery: number | null, seq: number | null, attrs: Record<string, unknown> | null, filter_reason: string | null
}

/**
 * A device's position history. (device_id, ts) is unique, so event time alone is the keyset: the
 * page after `after` (epoch ms) starts strictly beyond it, which can neither repeat nor skip a fix.
 */
export async function listPositions(pool: pg.Pool, tenantId: string, deviceId: string,
  q: { from?: Date, to?: Date, limit: number, order: 'asc' | 'desc', after?: number, includeFiltered: boolean }) {
  const c = new Conditions(tenantId).add('device_id = $?', deviceId)
  if (q.from) c.add('ts >= $?', q.from)
  if (q.to) c.add('ts <= $?', q.to)
  if (!q.includeFiltered) c.add('filter_reason IS NULL')
  if (q.after !== undefined) c.add(`ts ${q.order === 'asc' ? '>' : '<'} $?::timestamptz`, new Date(q.after))
  const dir = q.order === 'asc' ? 'ASC' : 'DESC'
  const { rows } = await pool.query<PositionRow>(
    `SELECT ts, received_at, lat, lon, speed, heading, alt, accuracy, battery, seq, attrs, filter_reason
     FROM positions WHERE ${c.sql} ORDER BY ts ${dir} ${c.limit(q.limit + 1)}`, c.params)
  const items = rows.slice(0, q.limit).map((r): PositionView => ({
    ts: r.ts.toISOString(), receivedAt: r.received_at.toISOString(), lat: r.lat, lon: r.lon, speed: r.speed, heading: r.heading,
    alt: r.alt, accuracy: r.accuracy, battery: r.battery, seq: r.seq, attrs: r.attrs, filterReason: r.filter_reason,
  }))
  return { items, hasMore: rows.length > q.limit }
}
