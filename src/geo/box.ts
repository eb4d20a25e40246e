// Bounding boxes in degrees for the spatial index. Longitudes of a shape are "unwrapped" (they may
// run past ±180 so that a shape crossing the antimeridian stays contiguous); splitLon cuts such a box
// into pieces inside [-180, 180] for Flatbush, which knows nothing about wrap-around.
import { EARTH_RADIUS_M, M_PER_DEG, wrapLon } from './distance.js'

export interface Box { minLon: number, minLat: number, maxLon: number, maxLat: number }

const RAD = Math.PI / 180
// 1 cm + 1 % on top of every reach absorbs rounding and the 1 mm on-boundary tolerance, so no exact
// hit can fall just outside its box.
const slackM = (m: number) => (Math.max(0, m) + 0.01) * 1.01

/** `b` grown by `metres` on every side. */
export function expandBox(b: Box, metres: number): Box {
  const dLat = slackM(metres) / M_PER_DEG
  const minLat = Math.max(-90, b.minLat - dLat), maxLat = Math.min(90, b.maxLat + dLat)
  const dLon = lonReachDeg(Math.max(Math.abs(minLat), Math.abs(maxLat)), metres)
  if (dLon >= 180) return { minLon: -180, minLat, maxLon: 180, maxLat }
  return { minLon: b.minLon - dLon, minLat, maxLon: b.maxLon + dLon, maxLat }
}

/**
 * Degrees of longitude that two points within `metres` of each other, both at |lat| ≤ poleward, can
 * differ by. From haversine: sin²(d/2) ≥ cos φ1 cos φ2 sin²(Δλ/2) ≥ cos² poleward · sin²(Δλ/2).
 * (The flat d / (R cos φ) under-covers by several % within a few km of the poles.)
 */
function lonReachDeg(poleward: number, metres: number): number {
  const s = Math.sin(slackM(metres) / (2 * EARTH_RADIUS_M)) / Math.cos(poleward * RAD)
  // s ≥ 1: the reach takes in a pole, so every longitude is possible
  return s >= 1 ? 180 : (2 * Math.asin(s)) / RAD
}

/** expandBox for a single point, without allocating a box: degrees to grow by in each direction. */
export function reachDeg(lat: number, metres: number): { dLon: number, dLat: number } {
  const dLat = slackM(metres) / M_PER_DEG
  return { dLon: lonReachDeg(Math.min(90, Math.abs(lat) + dLat), metres), dLat }
}

/** The pieces of `b` inside [-180, 180]: one, or two when it crosses the antimeridian. */
export function splitLon(b: Box): Box[] {
  if (b.maxLon - b.minLon >= 360) return [{ ...b, minLon: -180, maxLon: 180 }]
  const shift = wrapLon(b.minLon) - b.minLon
  const minLon = b.minLon + shift, maxLon = b.maxLon + shift
  if (maxLon <= 180) return [{ ...b, minLon, maxLon }]
  return [{ ...b, minLon, maxLon: 180 }, { ...b, minLon: -180, maxLon: maxLon - 360 }]
}

/** The multiple of 360° that moves a shape centred on `centerLon` next to longitude `lon`. */
export const lonShift = (centerLon: number, lon: number): number => {
  const d = lon - centerLon
  return d >= -180 && d <= 180 ? 0 : 360 * Math.round(d / 360)
}
