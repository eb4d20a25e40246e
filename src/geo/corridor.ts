// Corridor: distance to the polyline minus half the width. Clamping the projection to each segment's
// ends is what makes the caps round (half-discs around the first and last positions).
import { expandBox, lonShift, type Box } from './box.js'
import { M_PER_DEG } from './distance.js'
import { checkSpan, extentOf, newScan, ON_BOUNDARY_M, resetScan, scanDistanceM, scanEdges, unwrapInto } from './edges.js'
import { GeoError } from './errors.js'
import type { CorridorShape, PreparedShape } from './types.js'
import { checkPositions, checkPositiveM, distinctCount } from './validate.js'

const RAD = Math.PI / 180
const scan = newScan()

export class CorridorFence implements PreparedShape {
  readonly kind = 'corridor'
  readonly box: Box
  private readonly coords: Float64Array
  private readonly halfWidthM: number
  private readonly centerLon: number

  constructor(shape: CorridorShape, path = 'shape') {
    const line = checkPositions(shape.line, `${path}.line`, 2, 'a corridor line')
    if (distinctCount(line, 2) < 2) throw new GeoError('INVALID_GEOMETRY', 'a corridor line needs at least 2 distinct positions', `${path}.line`)
    this.halfWidthM = checkPositiveM(shape.widthM, 'INVALID_WIDTH', `${path}.widthM`) / 2
    this.coords = new Float64Array(2 * line.length)
    unwrapInto(this.coords, 0, line, line[0]![0])
    const e = extentOf(this.coords)
    checkSpan(e, `${path}.line`)
    this.centerLon = (e.minLon + e.maxLon) / 2
    this.box = expandBox(e, this.halfWidthM)
  }

  signedDistanceM(lon: number, lat: number): number {
    const kx = M_PER_DEG * Math.max(1e-12, Math.cos(lat * RAD))
    resetScan(scan)
    scanEdges(scan, this.coords, 0, this.coords.length / 2, lonShift(this.centerLon, lon) - lon, lat, kx)
    const d = scanDistanceM(scan, lon, lat, kx) - this.halfWidthM
    return Math.abs(d) <= ON_BOUNDARY_M ? 0 : d
  }
}
