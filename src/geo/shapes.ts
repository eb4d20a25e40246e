// Entry point for single-shape questions. Shapes are plain data (storable, serialisable); evaluation
// goes through a prepared form (validated, flattened, antimeridian-unwrapped) that is built once per
// shape object and cached, so callers must treat a shape as immutable once used.
import { CircleFence } from './circle.js'
import { CorridorFence } from './corridor.js'
import { GeoError } from './errors.js'
import { PolygonFence } from './polygon.js'
import type { Position, PreparedShape, Shape } from './types.js'

const prepared = new WeakMap<Shape, PreparedShape>()

/** Validates `shape` (throws GeoError) and returns its evaluation form; cached per shape object. */
export function prepareShape(shape: Shape, path = 'shape'): PreparedShape {
  const hit = prepared.get(shape)
  if (hit) return hit
  const p = build(shape, path)
  prepared.set(shape, p)
  return p
}

function build(shape: Shape, path: string): PreparedShape {
  switch (shape.kind) {
    case 'circle': return new CircleFence(shape, path)
    case 'polygon': return new PolygonFence(shape, path)
    case 'corridor': return new CorridorFence(shape, path)
    default: {
      const kind: unknown = (shape as { kind: unknown }).kind
      throw new GeoError('UNSUPPORTED_KIND', `unknown shape kind ${String(kind)}`, `${path}.kind`)
    }
  }
}

/**
 * Metres from `point` to the shape's boundary: negative inside (how deep), positive outside, and 0 on
 * the boundary (within 1 mm), which counts as inside. Inside a polygon's hole is outside.
 */
export function signedDistanceM(shape: Shape, point: Position): number {
  return prepareShape(shape).signedDistanceM(point[0], point[1])
}

/** `signedDistanceM(shape, point) <= marginM`: inside, or outside by at most `marginM`. */
export const isWithin = (shape: Shape, point: Position, marginM = 0): boolean => signedDistanceM(shape, point) <= marginM
