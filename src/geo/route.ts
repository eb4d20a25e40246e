// A planned route as a polyline with cumulative distances, for "where along the route is the truck"
// (ETA's remaining distance, off-route checks). Segments are straight in lon/lat like every other
// GeoJSON line; lengths are haversine per segment.
import { lonShift } from './box.js'
import { haversineLonLat, M_PER_DEG, wrapLon } from './distance.js'
import { unwrapInto } from './edges.js'
import { GeoError } from './errors.js'
import type { Position } from './types.js'
import { checkPositions, distinctCount } from './validate.js'

const RAD = Math.PI / 180

export interface RouteMatch {
  /** metres from the route's start to the projection of the point */
  readonly alongM: number
  /** metres from the point to the route (≥ 0, no side) */
  readonly offsetM: number
  /** index of the segment (between positions i and i + 1) */
  readonly segment: number
}

export interface LocateOptions {
  /** how far behind the hint a match may still lie, for GPS noise (default 50 m) */
  backM?: number
  /** how far ahead of the hint to look (default 5 km; size it to the time since the last fix) */
  forwardM?: number
  /** matches this close to the window's best are as good; the earliest of them wins (default 25 m) */
  slackM?: number
  /** when nothing in the window is this close, the whole route is searched (default 500 m) */
  maxOffsetM?: number
}

export class RouteLine {
  readonly lengthM: number
  /** flat [lon, lat, …], each longitude within 180° of the previous one */
  private readonly coords: Float64Array
  /** cumulative metres at each position */
  private readonly cum: Float64Array
  // per-segment scratch of the last locate(): squared local distance and projection parameter
  private readonly d2: Float64Array
  private readonly t: Float64Array

  static fromGeoJSON(geometry: unknown): RouteLine {
    const g = (typeof geometry === 'object' && geometry !== null ? geometry : {}) as { type?: unknown, coordinates?: unknown }
    if (g.type !== 'LineString') throw new GeoError('INVALID_GEOMETRY', 'a route is a LineString', 'geometry.type')
    return new RouteLine(checkPositions(g.coordinates, 'geometry.coordinates', 2, 'a LineString', true))
  }

  constructor(line: readonly Position[]) {
    const ps = checkPositions(line, 'line', 2, 'a route')
    if (distinctCount(ps, 2) < 2) throw new GeoError('INVALID_GEOMETRY', 'a route needs at least 2 distinct positions', 'line')
    const n = ps.length
    this.coords = new Float64Array(2 * n)
    unwrapInto(this.coords, 0, ps, ps[0]![0])
    this.cum = new Float64Array(n)
    for (let i = 1; i < n; i++) {
      const c = this.coords
      this.cum[i] = this.cum[i - 1]! + haversineLonLat(c[2 * i - 2]!, c[2 * i - 1]!, c[2 * i]!, c[2 * i + 1]!)
    }
    this.lengthM = this.cum[n - 1]!
    this.d2 = new Float64Array(n - 1)
    this.t = new Float64Array(n - 1)
  }

  get segments(): number { return this.d2.length }

  /**
   * Projects `point` onto the route. Without a hint: the nearest segment (the earliest on a tie).
   * With `hintM` (the last alongM): the window [hint − backM, hint + forwardM] is searched first and
   * the earliest match within slackM of its best wins, so a route passing the same place twice does
   * not jump back (or skip ahead) a loop; only when the window has nothing within maxOffsetM (a long
   * gap, a detour) is the whole route searched.
   */
  locate(point: Position, hintM?: number, options: LocateOptions = {}): RouteMatch {
    const lon = point[0], lat = point[1]
    const kx = M_PER_DEG * Math.max(1e-12, Math.cos(lat * RAD))
    const last = this.segments - 1
    if (hintM !== undefined && Number.isFinite(hintM)) {
      const { backM = 50, forwardM = 5000, slackM = 25, maxOffsetM = 500 } = options
      const lo = Math.max(0, hintM - backM), hi = Math.min(this.lengthM, hintM + forwardM)
      const first = this.segmentAt(lo), end = this.segmentAt(hi)
      let best = Infinity
      for (let i = first; i <= end && lo <= hi; i++) {
        const len = this.cum[i + 1]! - this.cum[i]!
        const tMin = len > 0 ? Math.max(0, (lo - this.cum[i]!) / len) : 0
        const tMax = len > 0 ? Math.min(1, (hi - this.cum[i]!) / len) : 1
        best = Math.min(best, this.project(i, lon, lat, kx, tMin, tMax))
      }
      if (Math.sqrt(best) <= maxOffsetM) {
        const limit = (Math.sqrt(best) + slackM) ** 2
        let j = first
        while (this.d2[j]! > limit) j++
        // walk down into the basin: the segment just before the true match is often within slack too
        while (j < end && this.d2[j + 1]! < this.d2[j]!) j++
        return this.match(j, lon, lat)
      }
    }
    let j = 0
    for (let i = 0; i <= last; i++) if (this.project(i, lon, lat, kx, 0, 1) < this.d2[j]!) j = i
    return this.match(j, lon, lat)
  }

  /** The route's position `alongM` metres from its start (clamped to the route). */
  pointAt(alongM: number): [number, number] {
    const a = Math.min(this.lengthM, Math.max(0, alongM))
    const i = this.segmentAt(a)
    const len = this.cum[i + 1]! - this.cum[i]!
    return this.lerp(i, len > 0 ? (a - this.cum[i]!) / len : 0)
  }

  /** Metres along the route from aM to bM (both clamped to the route); negative when bM lies before aM. */
  distanceBetween(aM: number, bM: number): number {
    const clamp = (m: number) => Math.min(this.lengthM, Math.max(0, m))
    return clamp(bM) - clamp(aM)
  }

  /** The segment containing `alongM` (the later one at a shared position, the last at the end). */
  private segmentAt(alongM: number): number {
    let lo = 0, hi = this.segments - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.cum[mid]! <= alongM) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** Nearest point of segment i (parameter limited to [tMin, tMax]) in the point's local frame. */
  private project(i: number, lon: number, lat: number, kx: number, tMin: number, tMax: number): number {
    const c = this.coords
    const off = lonShift(c[2 * i]!, lon) - lon
    const ax = (c[2 * i]! + off) * kx, ay = (c[2 * i + 1]! - lat) * M_PER_DEG
    const dx = (c[2 * i + 2]! + off) * kx - ax, dy = (c[2 * i + 3]! - lat) * M_PER_DEG - ay
    const len2 = dx * dx + dy * dy
    const t = Math.min(tMax, Math.max(tMin, len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0))
    const px = ax + t * dx, py = ay + t * dy
    this.t[i] = t
    this.d2[i] = px * px + py * py
    return this.d2[i]
  }

  private match(i: number, lon: number, lat: number): RouteMatch {
    const t = this.t[i]!
    const [mLon, mLat] = this.lerp(i, t)
    const alongM = this.cum[i]! + t * (this.cum[i + 1]! - this.cum[i]!)
    return { alongM, offsetM: haversineLonLat(lon, lat, mLon, mLat), segment: i }
  }

  private lerp(i: number, t: number): [number, number] {
    const c = this.coords
    return [wrapLon(c[2 * i]! + t * (c[2 * i + 2]! - c[2 * i]!)), c[2 * i + 1]! + t * (c[2 * i + 3]! - c[2 * i + 1]!)]
  }
}
