// GeoJSON geometry + fence kind → Shape, refusing anything the evaluator could get wrong. Ring
// simplicity (no self-crossing, holes inside the outer ring) is the API's check (src/geo/self-intersection.ts);
// here a crossing ring would simply be evaluated with the even-odd rule.
import { GeoError } from './errors.js'
import { prepareShape } from './shapes.js'
import type { Position, Shape, ShapeKind } from './types.js'
import { checkPosition, checkPositions, checkPositiveM, checkRing } from './validate.js'

const geometryType = { circle: 'Point', polygon: 'Polygon', corridor: 'LineString' } as const

const lonLat = (p: Position): [number, number] => [p[0], p[1]]

/**
 * Converts a GeoJSON geometry for a fence of `kind`: circle ← Point + radiusM, polygon ← Polygon,
 * corridor ← LineString + widthM (the full width). Throws GeoError with a code and the path of the
 * offending value (`geometry.coordinates[0][3]`, `radiusM`, …). Altitudes are dropped.
 */
export function fromGeoJSON(kind: ShapeKind, geometry: unknown, radiusM?: number, widthM?: number): Shape {
  if (typeof kind !== 'string' || !Object.hasOwn(geometryType, kind)) throw new GeoError('UNSUPPORTED_KIND', 'kind must be circle, polygon or corridor', 'kind')
  const expected = geometryType[kind]
  const g = (typeof geometry === 'object' && geometry !== null ? geometry : {}) as { type?: unknown, coordinates?: unknown }
  if (g.type !== expected) throw new GeoError('INVALID_GEOMETRY', `a ${kind} fence needs a ${expected} geometry`, 'geometry.type')
  const shape = convert(kind, g.coordinates, radiusM, widthM)
  try {
    prepareShape(shape) // the remaining checks (antimeridian span, rings around a pole); cached for the index
  } catch (e) {
    if (e instanceof GeoError && e.path) throw new GeoError(e.code, e.message.slice(e.path.length + 2), geoPath(e.path))
    throw e
  }
  return shape
}

function convert(kind: ShapeKind, coordinates: unknown, radiusM: unknown, widthM: unknown): Shape {
  const path = 'geometry.coordinates'
  switch (kind) {
    case 'circle':
      return { kind, center: lonLat(checkPosition(coordinates, path, true)), radiusM: checkPositiveM(radiusM, 'INVALID_RADIUS', 'radiusM') }
    case 'corridor': {
      const line = checkPositions(coordinates, path, 2, 'a LineString', true).map(lonLat)
      return { kind, line, widthM: checkPositiveM(widthM, 'INVALID_WIDTH', 'widthM') }
    }
    case 'polygon': {
      if (!Array.isArray(coordinates) || coordinates.length === 0) throw new GeoError('INVALID_GEOMETRY', 'a Polygon needs an outer ring', path)
      const rings = coordinates.map((r, i) => {
        const ring = checkPositions(r, `${path}[${i}]`, 4, 'a linear ring', true)
        checkRing(ring, `${path}[${i}]`)
        return ring.map(lonLat)
      })
      return { kind, rings }
    }
  }
}

/** Maps a Shape path back onto the GeoJSON input the caller sent. */
const geoPath = (path: string) => path
  .replace(/^shape\.(rings|line|center)/, 'geometry.coordinates')
  .replace(/^shape\./, '')
