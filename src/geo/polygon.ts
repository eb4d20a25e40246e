// Polygon with holes: even-odd crossing test and nearest edge in one pass over every ring, in the
// query point's local frame. Edges are straight in lon/lat (RFC 7946), like @turf/boolean-point-in-polygon.
import { expandBox, lonShift, type Box } from './box.js'
import { M_PER_DEG } from './distance.js'
import { checkSpan, extentOf, newScan, ON_BOUNDARY_M, resetScan, scanDistanceM, scanEdges, unwrapInto } from './edges.js'
import { GeoError } from './errors.js'
import type { PolygonShape, PreparedShape } from './types.js'
import { checkPositions, checkRing } from './validate.js'

const RAD = Math.PI / 180
const scan = newScan()

export class PolygonFence implements PreparedShape {
  readonly kind = 'polygon'
  readonly box: Box
  /** every ring, flat [lon, lat, …], longitudes unwrapped to one contiguous copy */
  private readonly coords: Float64Array
  /** vertex index where ring r starts; ringStarts[rings] = vertex count */
  private readonly ringStarts: Uint32Array
  private readonly centerLon: number

  constructor(shape: PolygonShape, path = 'shape') {
    const rings = shape.rings as unknown
    if (!Array.isArray(rings) || rings.length === 0) throw new GeoError('INVALID_GEOMETRY', 'a polygon needs an outer ring', `${path}.rings`)
    const checked = rings.map((r, i) => {
      const ps = checkPositions(r, `${path}.rings[${i}]`, 4, 'a linear ring')
      checkRing(ps, `${path}.rings[${i}]`)
      return ps
    })
    this.coords = new Float64Array(2 * checked.reduce((n, r) => n + r.length, 0))
    this.ringStarts = new Uint32Array(checked.length + 1)
    // every ring is unwrapped from the outer ring's first longitude, so holes land in the same copy
    const startLon = checked[0]![0]![0]
    let at = 0
    for (const [i, ring] of checked.entries()) {
      this.ringStarts[i] = at
      const last = unwrapInto(this.coords, at, ring, startLon)
      if (last !== this.coords[2 * at]) throw new GeoError('TOO_WIDE', 'a ring must not wind around a pole', `${path}.rings[${i}]`)
      at += ring.length
    }
    this.ringStarts[checked.length] = at
    const e = extentOf(this.coords)
    checkSpan(e, `${path}.rings`)
    this.centerLon = (e.minLon + e.maxLon) / 2
    this.box = expandBox(e, 0)
  }

  signedDistanceM(lon: number, lat: number): number {
    const kx = M_PER_DEG * Math.max(1e-12, Math.cos(lat * RAD))
    const lonOffset = lonShift(this.centerLon, lon) - lon
    resetScan(scan)
    const starts = this.ringStarts
    for (let r = 0; r + 1 < starts.length; r++) scanEdges(scan, this.coords, starts[r]!, starts[r + 1]!, lonOffset, lat, kx)
    const d = scanDistanceM(scan, lon, lat, kx)
    if (d <= ON_BOUNDARY_M) return 0
    return (scan.crossings & 1) === 1 ? -d : d
  }
}
