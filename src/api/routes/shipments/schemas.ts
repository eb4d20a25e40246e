import { Type, type Static } from 'typebox'
import { Nullable, PageQuery, Timestamp, Uuid } from '../../schemas/common.js'
import { DeviceId } from '../devices/schemas.js'
import { Geometry, LineStringInput, RadiusM } from '../geofences/schemas.js'

export const ShipmentStatus = Type.Enum(['planned', 'assigned', 'in_transit', 'at_stop', 'delivered', 'cancelled', 'exception'])
export type ShipmentStatus = Static<typeof ShipmentStatus>
export const StopType = Type.Enum(['pickup', 'delivery', 'waypoint'])
export const StopStatus = Type.Enum(['pending', 'arrived', 'departed', 'skipped'])
export const EtaStatus = Type.Enum(['unknown', 'on_time', 'at_risk', 'late'])

const DateTimeInput = Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone, e.g. 2026-03-01T08:00:00Z' })
const Temperature = Type.Number({ minimum: -100, maximum: 100, description: '°C' })
const Reference = Type.String({ minLength: 1, maxLength: 100, description: 'your reference (order, BOL…); unique in the tenant' })
const Notes = Type.String({ maxLength: 4000 })
const StopName = Type.String({ minLength: 1, maxLength: 200 })
const Address = Type.String({ maxLength: 500 })
const DwellS = Type.Integer({ minimum: 0, maximum: 7 * 86_400, description: 'planned time at the stop in seconds' })

export const ShipmentParams = Type.Object({ id: Uuid })
export const StopParams = Type.Object({ id: Uuid, stopId: Uuid })

export const Stop = Type.Object({
  id: Uuid, shipmentId: Uuid, seq: Type.Integer({ description: '0-based order along the route' }),
  type: StopType, name: Type.String(), address: Nullable(Type.String()), lat: Type.Number(), lon: Type.Number(),
  radiusM: Type.Number(), windowStart: Nullable(Timestamp), windowEnd: Nullable(Timestamp), plannedDwellS: Type.Integer(),
  status: StopStatus, arrivedAt: Nullable(Timestamp), departedAt: Nullable(Timestamp),
  eta: Nullable(Timestamp), etaStatus: EtaStatus, etaUpdatedAt: Nullable(Timestamp),
  geofenceId: Type.Union([Uuid, Type.Null()], { description: 'the circle fence of this stop' }),
})

const shipmentFields = {
  id: Uuid, reference: Type.String(), status: ShipmentStatus,
  carrierId: Nullable(Uuid), vehicleId: Nullable(Uuid), driverId: Nullable(Uuid), deviceId: Nullable(DeviceId),
  tempMinC: Nullable(Type.Number()), tempMaxC: Nullable(Type.Number()), notes: Nullable(Type.String()),
  createdAt: Timestamp, updatedAt: Timestamp, startedAt: Nullable(Timestamp), deliveredAt: Nullable(Timestamp), cancelledAt: Nullable(Timestamp),
}

export const NextStop = Type.Object({ id: Uuid, seq: Type.Integer(), name: Type.String(), eta: Nullable(Timestamp), etaStatus: EtaStatus })

/** A list item: no route (it can be large; GET /:id has it), the stop count and the next pending stop. */
export const ShipmentSummary = Type.Object({
  ...shipmentFields,
  stopsCount: Type.Integer(),
  nextStop: Type.Union([NextStop, Type.Null()], { description: 'the pending stop with the lowest seq; null when none is pending' }),
})

export const ShipmentDetail = Type.Object({
  ...shipmentFields,
  route: Type.Union([Geometry, Type.Null()], { description: 'planned route, a GeoJSON LineString' }),
  stops: Type.Array(Stop, { description: 'ordered by seq' }),
})

export const StopInput = Type.Object({
  type: StopType,
  name: StopName,
  address: Type.Optional(Nullable(Address)),
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
  radiusM: Type.Optional(RadiusM),
  windowStart: Type.Optional(Nullable(DateTimeInput)),
  windowEnd: Type.Optional(Nullable(DateTimeInput)),
  plannedDwellS: Type.Optional(DwellS),
}, { additionalProperties: false })
export type StopInput = Static<typeof StopInput>

export const Assignment = {
  carrierId: Type.Optional(Nullable(Uuid)),
  vehicleId: Type.Optional(Nullable(Uuid)),
  driverId: Type.Optional(Nullable(Uuid)),
  deviceId: Type.Optional(Nullable(DeviceId)),
}

export const CreateShipment = Type.Object({
  reference: Reference,
  ...Assignment,
  route: Type.Optional(Nullable(LineStringInput)),
  tempMinC: Type.Optional(Nullable(Temperature)),
  tempMaxC: Type.Optional(Nullable(Temperature)),
  notes: Type.Optional(Nullable(Notes)),
  stops: Type.Array(StopInput, { minItems: 1, maxItems: 50, description: 'in route order; seq is the index' }),
}, { additionalProperties: false })
export type CreateShipment = Static<typeof CreateShipment>

export const UpdateShipment = Type.Object({
  reference: Type.Optional(Reference),
  notes: Type.Optional(Nullable(Notes)),
  route: Type.Optional(Nullable(LineStringInput)),
  tempMinC: Type.Optional(Nullable(Temperature)),
  tempMaxC: Type.Optional(Nullable(Temperature)),
}, { additionalProperties: false, minProperties: 1 })
export type UpdateShipment = Static<typeof UpdateShipment>

export const UpdateStop = Type.Object({
  name: Type.Optional(StopName),
  address: Type.Optional(Nullable(Address)),
  windowStart: Type.Optional(Nullable(DateTimeInput)),
  windowEnd: Type.Optional(Nullable(DateTimeInput)),
  plannedDwellS: Type.Optional(DwellS),
  radiusM: Type.Optional(RadiusM),
}, { additionalProperties: false, minProperties: 1 })
export type UpdateStop = Static<typeof UpdateStop>

export const AssignBody = Type.Object(Assignment, { additionalProperties: false, minProperties: 1, description: 'null unassigns' })
export type AssignBody = Static<typeof AssignBody>

// a body is optional: Fastify validates a missing one as null
export const CancelBody = Type.Union([
  Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false }),
  Type.Null(),
])

export const ListQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(Type.Array(ShipmentStatus, { description: 'one or several: ?status=planned&status=assigned' })),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'reference contains (case-insensitive)' })),
  carrierId: Type.Optional(Uuid),
  vehicleId: Type.Optional(Uuid),
  driverId: Type.Optional(Uuid),
  deviceId: Type.Optional(DeviceId),
  createdFrom: Type.Optional(DateTimeInput),
  createdTo: Type.Optional(DateTimeInput),
})
export type ListQuery = Static<typeof ListQuery>
