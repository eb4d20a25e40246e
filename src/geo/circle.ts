// Circle: exact great-circle distance to the centre minus the radius; no projection involved.
import { expandBox, type Box } from './box.js'
import { haversineLonLat } from './distance.js'
import { ON_BOUNDARY_M } from './edges.js'
import type { CircleShape, PreparedShape } from './types.js'
import { checkPosition, checkPositiveM } from './validate.js'

export class CircleFence implements PreparedShape {
  readonly kind = 'circle'
  readonly box: Box
  private readonly lon: number
  private readonly lat: number
  private readonly radiusM: number

  constructor(shape: CircleShape, path = 'shape') {
    const [lon, lat] = checkPosition(shape.center, `${path}.center`)
    this.lon = lon
    this.lat = lat
    this.radiusM = checkPositiveM(shape.radiusM, 'INVALID_RADIUS', `${path}.radiusM`)
    this.box = expandBox({ minLon: lon, minLat: lat, maxLon: lon, maxLat: lat }, this.radiusM)
  }

  signedDistanceM(lon: number, lat: number): number {
    const d = haversineLonLat(this.lon, this.lat, lon, lat) - this.radiusM
    return Math.abs(d) <= ON_BOUNDARY_M ? 0 : d
  }
}
