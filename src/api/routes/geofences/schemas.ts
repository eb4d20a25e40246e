import { Type, type Static } from 'typebox'
import { Nullable, Timestamp, Uuid } from '../../schemas/common.js'
import { MAX_POLYGON_POSITIONS, MAX_POSITIONS, MAX_RINGS } from './geometry.js'

export const GeofenceKind = Type.Enum(['circle', 'polygon', 'corridor'])
export type GeofenceKind = Static<typeof GeofenceKind>

const radius = { exclusiveMinimum: 0, maximum: 100_000, description: 'circle radius in metres (0 < r ≤ 100 km)' }
const width = { exclusiveMinimum: 0, maximum: 50_000, description: 'full corridor width in metres, half on each side of the line (0 < w ≤ 50 km)' }
export const RadiusM = Type.Number(radius)
// type ['number', 'null'] and not anyOf [number, null]: with the API's type coercion the anyOf
// would turn a refused 0 into null instead of answering "must be > 0"
const NullableMeasure = (bounds: typeof radius) => Type.Unsafe<number | null>({ type: ['number', 'null'], ...bounds })

// Shape and size only; coordinates are checked by geometry.ts, which can name the bad position. The
// sizes are here so that an oversized geometry is a 400 from validation, before any geometry work.
// JSON Schema cannot sum the rings of a Polygon: each ring is capped here, their sum in geometry.ts.
const sizes = `at most ${MAX_POSITIONS} positions in a LineString, at most ${MAX_POLYGON_POSITIONS} in a Polygon (all rings together)`
export const GeometryInput = Type.Object({
  type: Type.Enum(['Point', 'LineString', 'Polygon']),
  coordinates: Type.Array(Type.Unknown({ maxItems: MAX_POLYGON_POSITIONS, description: `a ring of a Polygon (at most ${MAX_POLYGON_POSITIONS} positions), a position of a LineString, or a number of a Point` }), {
    maxItems: MAX_POSITIONS,
    description: 'GeoJSON (RFC 7946) coordinates, [longitude, latitude] order: a position for a Point, ' +
      'positions (≥ 2) for a LineString, closed rings (≥ 4 positions, first = last; holes after the outer ring) for a Polygon; ' +
      `${sizes}, at most ${MAX_RINGS} rings`,
  }),
}, { description: 'a GeoJSON geometry; other members (bbox, …) are ignored and not stored' })

export const LineStringInput = Type.Object({
  type: Type.Enum(['LineString']),
  coordinates: Type.Array(Type.Unknown(), { maxItems: MAX_POSITIONS, description: `[longitude, latitude] positions, at least 2, at most ${MAX_POSITIONS}` }),
}, { description: 'a GeoJSON LineString' })

export const Geometry = Type.Object({ type: Type.String(), coordinates: Type.Array(Type.Unknown()) })

export const Geofence = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: GeofenceKind,
  geometry: Geometry,
  radiusM: Nullable(Type.Number()),
  widthM: Nullable(Type.Number()),
  stopId: Nullable(Uuid),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { description: 'circle: Point + radiusM; polygon: Polygon (holes allowed); corridor: LineString + widthM. A fence with stopId belongs to a shipment stop.' })

export const CreateGeofence = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: GeofenceKind,
  geometry: GeometryInput,
  radiusM: Type.Optional(NullableMeasure(radius)),
  widthM: Type.Optional(NullableMeasure(width)),
}, { additionalProperties: false })
export type CreateGeofence = Static<typeof CreateGeofence>

export const GeofenceFilters = Type.Object({
  kind: Type.Optional(GeofenceKind),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'name contains (case-insensitive)' })),
  stop: Type.Optional(Type.Boolean({ description: 'true: only shipment stop fences; false: only the tenant\'s own fences' })),
  shipmentId: Type.Optional(Uuid),
})
