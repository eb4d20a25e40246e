// Small spherical geometry helpers. The simulator needs them per fix for thousands of vehicles, so
// these are plain arithmetic on numbers rather than turf's GeoJSON-object API.

export const EARTH_RADIUS_M = 6_371_008.8
const RAD = Math.PI / 180

export interface LonLat { lon: number, lat: number }

/** Great-circle distance in metres. */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD
  const dLon = (lon2 - lon1) * RAD
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)))
}

/** Initial bearing from 1 to 2, degrees clockwise from north in [0, 360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const φ1 = lat1 * RAD
  const φ2 = lat2 * RAD
  const dλ = (lon2 - lon1) * RAD
  const y = Math.sin(dλ) * Math.cos(φ2)
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(dλ)
  const deg = Math.atan2(y, x) / RAD
  return (deg + 360) % 360
}

/**
 * Moves a point by metres north and east. A local flat approximation: exact enough for GPS noise
 * (metres) and jumps (kilometres), and cheap.
 */
export function offsetM(lat: number, lon: number, northM: number, eastM: number): LonLat {
  const dLat = northM / EARTH_RADIUS_M / RAD
  const dLon = eastM / (EARTH_RADIUS_M * Math.cos(lat * RAD)) / RAD
  return { lat: lat + dLat, lon: wrapLon(lon + dLon) }
}

export const wrapLon = (lon: number) => ((((lon + 180) % 360) + 360) % 360) - 180

/** Rounds to 7 decimals (~1 cm): what real trackers send, and it keeps payloads short. */
export const round7 = (x: number) => Math.round(x * 1e7) / 1e7
