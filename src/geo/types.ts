// Plain data shapes, as stored and sent over the API. Coordinates are GeoJSON [lon, lat] in WGS84
// degrees; every distance is in metres. Anything beyond lon/lat in a position (altitude) is ignored.
import type { Box } from './box.js'

/** `[longitude, latitude]` in WGS84 degrees; an altitude, if present, is ignored. */
export type Position = readonly [lon: number, lat: number, ...rest: number[]]

/** Every point within `radiusM` (great-circle distance) of `center`. */
export type CircleShape = { readonly kind: 'circle', readonly center: Position, readonly radiusM: number }

/**
 * First ring is the outer boundary, the rest are holes; rings are closed (last position = first).
 * Edges are straight lines in lon/lat, as RFC 7946 says. Inside is decided by the even-odd rule, so a
 * point inside a hole is outside the fence.
 */
export type PolygonShape = { readonly kind: 'polygon', readonly rings: readonly (readonly Position[])[] }

/**
 * The buffer of `line` by half of `widthM` with ROUND caps: every point within widthM / 2 of the
 * line, so the ends are half-discs, not flat cuts.
 */
export type CorridorShape = { readonly kind: 'corridor', readonly line: readonly Position[], readonly widthM: number }

export type Shape = CircleShape | PolygonShape | CorridorShape
export type ShapeKind = Shape['kind']

/**
 * A shape validated and flattened for fast evaluation (see shapes.ts). `box` is its bounding box in
 * degrees, already grown by the radius or half width; its longitudes may run past ±180.
 */
export interface PreparedShape {
  readonly kind: ShapeKind
  readonly box: Box
  /** Metres: negative inside (depth), positive outside, 0 on the boundary. */
  signedDistanceM(lon: number, lat: number): number
}
