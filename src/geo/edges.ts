// The inner loop shared by polygons and corridors: one pass over consecutive vertices, in the local
// equirectangular frame of the query point (which sits at the origin), tracking the nearest point on
// any edge and the crossings of the ray from the origin towards +x (even-odd rule for polygons).
import { haversineLonLat, M_PER_DEG } from './distance.js'
import { GeoError } from './errors.js'
import type { Position } from './types.js'

/** Within this many metres of an edge a point counts as on it (inside, distance 0): GPS does not resolve mm. */
export const ON_BOUNDARY_M = 0.001

/** Mutable scan result, one per caller module, so the hot path allocates nothing. */
export interface EdgeScan { d2: number, x: number, y: number, crossings: number }

export const newScan = (): EdgeScan => ({ d2: Infinity, x: 0, y: 0, crossings: 0 })

export function resetScan(s: EdgeScan): void {
  s.d2 = Infinity
  s.x = 0
  s.y = 0
  s.crossings = 0
}

/**
 * Scans edges between vertices [from, to) of flat `[lon, lat, …]` coords. `lonOffset` turns a stored
 * longitude into one relative to the query point (it includes any ±360 antimeridian shift).
 */
export function scanEdges(s: EdgeScan, c: Float64Array, from: number, to: number, lonOffset: number, lat0: number, kx: number): void {
  let ax = (c[2 * from]! + lonOffset) * kx, ay = (c[2 * from + 1]! - lat0) * M_PER_DEG
  for (let i = from + 1; i < to; i++) {
    const bx = (c[2 * i]! + lonOffset) * kx, by = (c[2 * i + 1]! - lat0) * M_PER_DEG
    // half-open rule on y: a vertex lying exactly on the ray is counted once, not twice
    if ((ay > 0) !== (by > 0) && ax - ay * (bx - ax) / (by - ay) > 0) s.crossings++
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy
    let t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0
    t = t < 0 ? 0 : t > 1 ? 1 : t
    const px = ax + t * dx, py = ay + t * dy, d2 = px * px + py * py
    if (d2 < s.d2) {
      s.d2 = d2
      s.x = px
      s.y = py
    }
    ax = bx
    ay = by
  }
}

/**
 * Distance to the nearest point found: the projection only chooses that point, the metres come from
 * haversine, so the answer stays exact-ish for big polygons and near the poles.
 */
export function scanDistanceM(s: EdgeScan, lon0: number, lat0: number, kx: number): number {
  if (s.d2 === 0) return 0
  return haversineLonLat(lon0, lat0, lon0 + s.x / kx, lat0 + s.y / M_PER_DEG)
}

/** Vertical extent and unwrapped horizontal extent of flat coords. */
export interface Extent { minLon: number, minLat: number, maxLon: number, maxLat: number }

/**
 * Copies `ps` into `out` from vertex `at`, moving each longitude by ±360 to within 180° of the
 * previous one, so a ring or line crossing the antimeridian stays contiguous. Returns the last lon.
 */
export function unwrapInto(out: Float64Array, at: number, ps: readonly Position[], prevLon: number): number {
  let prev = prevLon
  for (const [i, p] of ps.entries()) {
    let lon = p[0]
    while (lon - prev > 180) lon -= 360
    while (lon - prev < -180) lon += 360
    out[2 * (at + i)] = lon
    out[2 * (at + i) + 1] = p[1]
    prev = lon
  }
  return prev
}

export function extentOf(c: Float64Array): Extent {
  const e = { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity }
  for (let i = 0; i < c.length; i += 2) {
    const lon = c[i]!, lat = c[i + 1]!
    if (lon < e.minLon) e.minLon = lon
    if (lon > e.maxLon) e.maxLon = lon
    if (lat < e.minLat) e.minLat = lat
    if (lat > e.maxLat) e.maxLat = lat
  }
  return e
}

/** Shapes must span less than 180° of longitude, or "the short way round" would be ambiguous. */
export function checkSpan(e: Extent, path: string): void {
  if (e.maxLon - e.minLon >= 180) throw new GeoError('TOO_WIDE', 'a shape must span less than 180° of longitude', path)
}
