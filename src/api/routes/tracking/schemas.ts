// Schemas of the read side (events, timeline, positions, asset state) and of manual events.
import { Type, type Static } from 'typebox'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { DeviceId } from '../devices/schemas.js'

const DateTimeInput = Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone' })
export const EventTypeName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' })
/** A `type`/`types` filter: one event type or a comma-separated list. */
export const EventTypeList = (description = 'one event type or a comma-separated list (at most 32)') => Type.String({
  pattern: '^[a-z][a-z0-9_]{0,63}(,[a-z][a-z0-9_]{0,63}){0,31}$', description,
})

/**
 * The event types a read or a stream asks for. `/events` documents `type` and `/stream` `types`; each
 * takes the other name too, and given both, an event of either list matches.
 */
export function eventTypesOf(q: { type?: string | undefined, types?: string | undefined }): string[] | undefined {
  const types = [q.type, q.types].flatMap((list) => list ? list.split(',') : [])
  return types.length > 0 ? [...new Set(types)] : undefined
}
export const Cursor = Type.String({ minLength: 1, maxLength: 100, description: 'opaque; from the previous page' })

export const TrackingEvent = Type.Object({
  id: Type.Integer({ description: 'increasing in storage order; the SSE event id' }),
  type: Type.String({ description: 'see docs/events.md' }),
  ts: Timestamp,
  source: Type.Enum(['device', 'rule', 'user']),
  shipmentId: Nullable(Uuid), stopId: Nullable(Uuid), vehicleId: Nullable(Uuid), deviceId: Nullable(Type.String()),
  userId: Nullable(Uuid),
  payload: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Timestamp,
})

export const EventsQuery = Type.Object({
  type: Type.Optional(EventTypeList()),
  types: Type.Optional(EventTypeList('the same filter as `type` (the name /stream uses); with both, events of either list')),
  shipmentId: Type.Optional(Uuid),
  deviceId: Type.Optional(DeviceId),
  vehicleId: Type.Optional(Uuid),
  from: Type.Optional(DateTimeInput),
  to: Type.Optional(DateTimeInput),
  order: Type.Optional(Type.Enum(['asc', 'desc'], { default: 'desc', description: 'by event time, then id; newest first by default' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  cursor: Type.Optional(Cursor),
})
export type EventsQuery = Static<typeof EventsQuery>

export const EventPage = Type.Object({
  items: Type.Array(TrackingEvent),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last one' }),
})

export const TimelineQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  after: Type.Optional(Cursor),
  before: Type.Optional(Cursor),
})

export const Timeline = Type.Object({
  items: Type.Array(TrackingEvent, { description: 'event-time order (ts, then id)' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `after` for later events; null when there are none' }),
  prevCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `before` for earlier events; null when there are none' }),
})

export const PositionsQuery = Type.Object({
  from: Type.Optional(DateTimeInput),
  to: Type.Optional(DateTimeInput),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  cursor: Type.Optional(Cursor),
  order: Type.Optional(Type.Enum(['asc', 'desc'], { default: 'asc' })),
  includeFiltered: Type.Boolean({ default: false, description: 'also fixes a stage dropped after they were stored (filterReason set)' }),
})
export type PositionsQuery = Static<typeof PositionsQuery>

const N = Nullable(Type.Number())
export const Position = Type.Object({
  ts: Timestamp, receivedAt: Timestamp, lat: Type.Number(), lon: Type.Number(), speed: N, heading: N, alt: N, accuracy: N, battery: N,
  seq: Nullable(Type.Integer()), attrs: Nullable(Type.Record(Type.String(), Type.Unknown())),
  filterReason: Type.Union([Type.String(), Type.Null()], { description: 'why a stage dropped it after it was stored (e.g. gps_jump); null for a good fix' }),
})

export const PositionPage = Type.Object({
  items: Type.Array(Position),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` (same order) for the next page; null on the last one' }),
})

const Opt = <T extends Parameters<typeof Type.Optional>[0]>(t: T) => Type.Optional(t)
/** The last fix the processing core accepted for a device (its current position). */
export const LastFix = Type.Object({
  ts: Timestamp, receivedAt: Timestamp, lat: Type.Number(), lon: Type.Number(),
  speed: Opt(Type.Number()), heading: Opt(Type.Number()), alt: Opt(Type.Number()), accuracy: Opt(Type.Number()),
  battery: Opt(Type.Number()), seq: Opt(Type.Integer()), attrs: Opt(Type.Record(Type.String(), Type.Unknown())),
})

export const AssetState = Type.Object({
  deviceId: DeviceId,
  vehicleId: Nullable(Uuid),
  version: Type.Integer({ description: 'bumped by every state write' }),
  fixCount: Type.Integer({ description: 'accepted fixes applied so far' }),
  lastFix: Type.Union([LastFix, Type.Null()]),
  lastDrop: Type.Union([Type.Object({ reason: Type.String(), ts: Timestamp }), Type.Null()], { description: 'the last fix a stateful stage dropped' }),
  presence: Type.Object({ online: Type.Boolean(), lastSeenAt: Nullable(Timestamp), lastFixAt: Nullable(Timestamp) }),
  features: Type.Record(Type.String(), Type.Unknown(), { description: 'per-feature state of the processing core, as stored (internal shape, may change)' }),
})

export const ManualEvent = Type.Union([
  Type.Object({
    type: Type.Literal('exception'),
    code: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'your exception code, e.g. damaged, refused, customs_hold' }),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('proof_of_delivery'),
    name: Type.String({ minLength: 1, maxLength: 200, description: 'who received the goods' }),
    time: DateTimeInput,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('comment'),
    text: Type.String({ minLength: 1, maxLength: 4000 }),
  }, { additionalProperties: false }),
])
export type ManualEvent = Static<typeof ManualEvent>

export const ManualEventResult = Type.Object({
  shipment: Type.Object({ id: Uuid, status: Type.String(), deliveredAt: Nullable(Timestamp) }),
  events: Type.Array(TrackingEvent, { description: 'every event stored by this call (e.g. proof_of_delivery, delivered, shipment_status)' }),
})

export const LatestPositionsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
  cursor: Type.Optional(Cursor),
  vehicleId: Type.Optional(Uuid),
})
export type LatestPositionsQuery = Static<typeof LatestPositionsQuery>

export const LatestPositions = Type.Object({
  items: Type.Array(Type.Object({
    deviceId: DeviceId,
    vehicleId: Nullable(Uuid),
    lastFix: Type.Union([LastFix, Type.Null()], { description: 'null until the device has a fix the core accepted' }),
  })),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last one' }),
})
