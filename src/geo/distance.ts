// Spherical distances on the mean Earth radius. Turf uses the same radius, so haversine results agree
// with @turf/distance to the last bit and the bench can compare memberships exactly.
import type { Position } from './types.js'

/** IUGG mean Earth radius, metres. */
export const EARTH_RADIUS_M = 6_371_008.8
const RAD = Math.PI / 180
/** Metres per degree of latitude (and of longitude on the equator). */
export const M_PER_DEG = EARTH_RADIUS_M * RAD

/** Longitude moved into [-180, 180). */
export function wrapLon(lon: number): number {
  if (lon >= -180 && lon < 180) return lon
  return ((((lon + 180) % 360) + 360) % 360) - 180
}

/** `to - from` in degrees of longitude, the short way round: in [-180, 180). */
export const lonDelta = (from: number, to: number): number => wrapLon(to - from)

/**
 * Great-circle distance in metres. sin² of half the longitude difference has a period of 360°, so
 * 179.9 → -179.9 is ~11 km without any wrapping.
 */
export function haversineLonLat(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const sLat = Math.sin((lat2 - lat1) * RAD / 2)
  const sLon = Math.sin((lon2 - lon1) * RAD / 2)
  const h = sLat * sLat + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * sLon * sLon
  // rounding can push h a hair above 1 for antipodal points
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(Math.min(1, h)))
}

export const haversineM = (a: Position, b: Position): number => haversineLonLat(a[0], a[1], b[0], b[1])

/** Initial great-circle bearing from `a` to `b`, degrees clockwise from north in [0, 360). */
export function initialBearingDeg(a: Position, b: Position): number {
  const phi1 = a[1] * RAD, phi2 = b[1] * RAD, dLambda = (b[0] - a[0]) * RAD
  const y = Math.sin(dLambda) * Math.cos(phi2)
  const x = Math.cos(phi1) * Math.sin(phi2) - Math.sin(phi1) * Math.cos(phi2) * Math.cos(dLambda)
  return (Math.atan2(y, x) / RAD + 360) % 360
}

/** The point `distanceM` along the great circle leaving `origin` at `bearingDeg`; longitude wrapped. */
export function destination(origin: Position, bearingDeg: number, distanceM: number): [number, number] {
  const delta = distanceM / EARTH_RADIUS_M, theta = bearingDeg * RAD
  const phi1 = origin[1] * RAD, lambda1 = origin[0] * RAD
  const sinPhi2 = Math.sin(phi1) * Math.cos(delta) + Math.cos(phi1) * Math.sin(delta) * Math.cos(theta)
  const phi2 = Math.asin(Math.max(-1, Math.min(1, sinPhi2)))
  const lambda2 = lambda1 + Math.atan2(Math.sin(theta) * Math.sin(delta) * Math.cos(phi1), Math.cos(delta) - Math.sin(phi1) * sinPhi2)
  return [wrapLon(lambda2 / RAD), phi2 / RAD]
}

/**
 * Equirectangular projection tangent at `origin`: x east, y north, metres. Lines straight in lon/lat
 * stay straight (it is affine in lon/lat), so point-in-polygon answers are the same as in degrees;
 * distances are good to ~0.1 % within a few km (worse towards the poles, where cos(lat) varies fast).
 */
export interface LocalFrame {
  readonly lon0: number
  readonly lat0: number
  /** metres per degree of longitude at lat0 (floored so the poles do not divide by zero) */
  readonly kx: number
  /** metres per degree of latitude */
  readonly ky: number
}

export function localFrame(origin: Position): LocalFrame {
  return { lon0: origin[0], lat0: origin[1], kx: M_PER_DEG * Math.max(1e-12, Math.cos(origin[1] * RAD)), ky: M_PER_DEG }
}

/** Local metres of `p`; its longitude is taken the short way round from the origin. */
export function toLocal(f: LocalFrame, p: Position): [x: number, y: number] {
  return [lonDelta(f.lon0, p[0]) * f.kx, (p[1] - f.lat0) * f.ky]
}

export function fromLocal(f: LocalFrame, x: number, y: number): [number, number] {
  return [wrapLon(f.lon0 + x / f.kx), f.lat0 + y / f.ky]
}

/** Fast approximate distance for short hops (see LocalFrame for the accuracy). */
export function equirectangularM(a: Position, b: Position): number {
  const x = lonDelta(a[0], b[0]) * Math.cos((a[1] + b[1]) * RAD / 2)
  const y = b[1] - a[1]
  return Math.sqrt(x * x + y * y) * M_PER_DEG
}
