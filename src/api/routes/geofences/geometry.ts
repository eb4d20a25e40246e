// GeoJSON checks for fences and planned routes. The JSON schema only says "an object with a type
// and coordinates"; the rules live here so a refusal can say which coordinate is wrong and why
// ("geometry.coordinates[0][3]: latitude 91 is outside [-90, 90]") instead of an anyOf dump.
import { AppError } from '../../../errors.js'
import { findRingCrossing, insideRing, type RingEdge } from '../../../geo/self-intersection.js'

export type Position = [number, number] | [number, number, number]
// type aliases, not interfaces: Prisma's JSON input type accepts only the former
export type PointGeometry = { type: 'Point', coordinates: Position }
export type LineStringGeometry = { type: 'LineString', coordinates: Position[] }
export type PolygonGeometry = { type: 'Polygon', coordinates: Position[][] }
export type FenceGeometry = PointGeometry | LineStringGeometry | PolygonGeometry

/** Most positions a LineString may hold: enough for a detailed road corridor, small enough for the fence index. */
export const MAX_POSITIONS = 20_000
/**
 * Most positions a Polygon may hold, all rings together (so also any one ring). A country border
 * simplified for display has ~1,000–3,000; a yard, a port or a city a few hundred. The ring checks
 * below are O(n log n) (a few ms at the cap, docs/geofences.md); the request schema refuses a longer
 * ring before any of this runs (schemas.ts), the sum of the rings is checked here.
 */
export const MAX_POLYGON_POSITIONS = 5_000
/** Most rings of a Polygon: the outer ring and 99 holes. */
export const MAX_RINGS = 100

export const invalidGeometry = (path: string, message: string) =>
  new AppError(400, 'INVALID_GEOMETRY', `${path}: ${message}`, { path })

function position(value: unknown, path: string): Position {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
    throw invalidGeometry(path, 'a position is [longitude, latitude] or [longitude, latitude, altitude]')
  }
  for (const [i, n] of value.entries()) {
    if (typeof n !== 'number' || !Number.isFinite(n)) throw invalidGeometry(`${path}[${i}]`, 'must be a finite number')
  }
  const [lon, lat] = value as Position
  if (lon < -180 || lon > 180) throw invalidGeometry(`${path}[0]`, `longitude ${lon} is outside [-180, 180]`)
  if (lat < -90 || lat > 90) throw invalidGeometry(`${path}[1]`, `latitude ${lat} is outside [-90, 90]`)
  return value as Position
}

function positions(value: unknown, path: string, min: number, what: string): Position[] {
  if (!Array.isArray(value) || value.length < min) throw invalidGeometry(path, `${what} needs at least ${min} positions`)
  if (value.length > MAX_POSITIONS) throw invalidGeometry(path, `at most ${MAX_POSITIONS} positions`)
  return value.map((p, i) => position(p, `${path}[${i}]`))
}

/** RFC 7946: a ring's first and last positions hold identical values, the altitude included. */
const samePosition = (a: Position, b: Position) => a.length === b.length && a.every((n, i) => n === b[i])
const distinctPlaces = (ps: Position[]) => new Set(ps.map((p) => `${p[0]},${p[1]}`)).size

function ring(value: unknown, path: string): Position[] {
  const ps = positions(value, path, 4, 'a linear ring')
  if (!samePosition(ps[0]!, ps[ps.length - 1]!)) throw invalidGeometry(path, 'a linear ring must be closed: its last position must equal its first (altitude included)')
  if (distinctPlaces(ps) < 3) throw invalidGeometry(path, 'a linear ring needs at least 3 distinct positions (it encloses no area)')
  return ps
}

/** ~0.01 m² at the equator: a ring smaller than this is a line drawn twice, and nothing can ever be inside it. */
const MIN_AREA_DEG2 = 1e-12

/** Shoelace area in square degrees, taken about the first position so that large coordinates lose no precision. */
function planarArea(ps: Position[]): number {
  const [x0, y0] = ps[0]!
  let twice = 0
  for (let i = 1; i < ps.length - 1; i++) {
    twice += (ps[i]![0] - x0) * (ps[i + 1]![1] - y0) - (ps[i + 1]![0] - x0) * (ps[i]![1] - y0)
  }
  return twice / 2
}

export function parsePoint(value: { coordinates?: unknown }, path: string): PointGeometry {
  return { type: 'Point', coordinates: position(value.coordinates, `${path}.coordinates`) }
}

export function parseLineString(value: { coordinates?: unknown }, path: string): LineStringGeometry {
  const coordinates = positions(value.coordinates, `${path}.coordinates`, 2, 'a LineString')
  if (distinctPlaces(coordinates) < 2) throw invalidGeometry(`${path}.coordinates`, 'a LineString needs at least 2 distinct positions')
  return { type: 'LineString', coordinates }
}

export function parsePolygon(value: { coordinates?: unknown }, path: string): PolygonGeometry {
  const raw = value.coordinates
  if (!Array.isArray(raw) || raw.length === 0) throw invalidGeometry(`${path}.coordinates`, 'a Polygon needs an outer ring')
  if (raw.length > MAX_RINGS) throw invalidGeometry(`${path}.coordinates`, `at most ${MAX_RINGS} rings (1 outer ring and ${MAX_RINGS - 1} holes)`)
  // counted before any position is read: the cost of everything below grows with it
  const total = raw.reduce((n: number, r) => n + (Array.isArray(r) ? r.length : 0), 0)
  if (total > MAX_POLYGON_POSITIONS) throw invalidGeometry(`${path}.coordinates`, `a Polygon has at most ${MAX_POLYGON_POSITIONS} positions in all its rings, not ${total}`)
  const rings = raw.map((r, i) => ring(r, `${path}.coordinates[${i}]`))
  // A crossing edge makes "inside" ambiguous, and the fence index would disagree with the map.
  // A sweep line that stops at the first meeting of two edges: O(n log n) (src/geo/self-intersection.ts).
  const crossing = findRingCrossing(rings)
  if (crossing) {
    const { a, b, at: [lon, lat] } = crossing
    const edge = (e: RingEdge) => `[${e.ring}][${e.edge}]–[${e.ring}][${e.edge + 1}]`
    throw invalidGeometry(`${path}.coordinates`, `rings must not cross or touch themselves or each other: edge ${edge(a)} meets edge ${edge(b)} near [${lon}, ${lat}]`)
  }
  // after the crossing check: a figure-eight's two loops cancel in the signed area
  for (const [i, r] of rings.entries()) {
    if (Math.abs(planarArea(r)) < MIN_AREA_DEG2) throw invalidGeometry(`${path}.coordinates[${i}]`, 'a linear ring must enclose an area (its positions lie on one line)')
  }
  // no edge of a hole meets the outer ring, so a hole is wholly inside it or wholly outside: one vertex tells
  // (O(outer ring) per hole)
  const outer = rings[0]!
  for (const [i, hole] of rings.slice(1).entries()) {
    const [lon, lat] = hole[0]!
    if (!insideRing(lon, lat, outer)) throw invalidGeometry(`${path}.coordinates[${i + 1}]`, 'a hole must lie inside the outer ring')
  }
  return { type: 'Polygon', coordinates: rings }
}

const parsers = { Point: parsePoint, LineString: parseLineString, Polygon: parsePolygon } as const

/** Validates a fence geometry of any supported type; throws INVALID_GEOMETRY naming the bad part. */
export function parseGeometry(value: { type?: unknown, coordinates?: unknown }, path = 'geometry'): FenceGeometry {
  const type = value.type
  const parse = typeof type === 'string' && Object.hasOwn(parsers, type) ? parsers[type as keyof typeof parsers] : undefined
  if (!parse) throw invalidGeometry(`${path}.type`, 'must be Point, LineString or Polygon')
  return parse(value, path)
}
