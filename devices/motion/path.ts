// A route line prepared for fast lookups: cumulative distance per vertex, so "where is the vehicle
// after d metres" is an index walk from the vehicle's last position instead of a scan of the line.
import { bearingDeg, haversineM } from '../geo.js'

export interface PathPoint { lat: number, lon: number, heading: number }

export class RoutePath {
  readonly lats: Float64Array
  readonly lons: Float64Array
  /** distance from the start to vertex i, metres */
  readonly cumM: Float64Array
  readonly lengthM: number

  constructor(coordinates: readonly (readonly number[])[]) {
    if (coordinates.length < 2) throw new Error('a route needs at least two vertices')
    const n = coordinates.length
    this.lats = new Float64Array(n)
    this.lons = new Float64Array(n)
    this.cumM = new Float64Array(n)
    coordinates.forEach((c, i) => {
      const [lon, lat] = c
      if (lon === undefined || lat === undefined) throw new Error(`route vertex ${i} is not [lon, lat]`)
      this.lons[i] = lon
      this.lats[i] = lat
      if (i > 0) this.cumM[i] = this.cumM[i - 1]! + haversineM(this.lats[i - 1]!, this.lons[i - 1]!, lat, lon)
    })
    this.lengthM = this.cumM[n - 1]!
  }

  get vertexCount() { return this.lats.length }

  /** Index of the segment [i, i+1] that holds distance d, walking from `hint` (monotone callers pay O(1)). */
  segmentAt(d: number, hint = 0): number {
    const last = this.lats.length - 2
    let i = Math.min(Math.max(hint, 0), last)
    while (i < last && this.cumM[i + 1]! <= d) i++
    while (i > 0 && this.cumM[i]! > d) i--
    return i
  }

  /** Position and heading at distance d along the line (clamped to the ends). */
  pointAt(d: number, hint = 0): PathPoint & { segment: number } {
    const clamped = Math.min(Math.max(d, 0), this.lengthM)
    const i = this.segmentAt(clamped, hint)
    const a = this.cumM[i]!
    const len = this.cumM[i + 1]! - a
    const f = len > 0 ? (clamped - a) / len : 0
    const lat1 = this.lats[i]!, lon1 = this.lons[i]!, lat2 = this.lats[i + 1]!, lon2 = this.lons[i + 1]!
    return {
      lat: lat1 + (lat2 - lat1) * f,
      lon: lon1 + (lon2 - lon1) * f,
      heading: bearingDeg(lat1, lon1, lat2, lon2),
      segment: i,
    }
  }

  /**
   * Distance along the line of the vertex closest to (lat, lon), looking only at or beyond `fromM`:
   * how stops are placed on a route, in order, so a loop's last stop is not taken for its first.
   */
  project(lat: number, lon: number, fromM = 0): number {
    let best = this.segmentAt(fromM)
    let bestM = Number.POSITIVE_INFINITY
    for (let i = best; i < this.lats.length; i++) {
      if (this.cumM[i]! < fromM) continue
      const m = haversineM(lat, lon, this.lats[i]!, this.lons[i]!)
      if (m < bestM) { bestM = m; best = i }
    }
    return this.cumM[best]!
  }

  coordinates(): [number, number][] {
    return Array.from(this.lats, (lat, i) => [this.lons[i]!, lat])
  }
}
