// Checks shared by the shape constructors and the GeoJSON converter, so a shape built in code and one
// parsed from a request are refused for the same reasons with the same codes.
import { GeoError } from './errors.js'
import type { Position } from './types.js'

/** A finite [lon, lat] with lat in [-90, 90]; lon in [-180, 180] too when `strictLon` (GeoJSON input). */
export function checkPosition(value: unknown, path: string, strictLon = false): Position {
  if (!Array.isArray(value) || value.length < 2) throw new GeoError('INVALID_POSITION', 'a position is [longitude, latitude]', path)
  const [lon, lat] = value as unknown[]
  if (typeof lon !== 'number' || !Number.isFinite(lon)) throw new GeoError('INVALID_POSITION', 'longitude must be a finite number', `${path}[0]`)
  if (typeof lat !== 'number' || !Number.isFinite(lat)) throw new GeoError('INVALID_POSITION', 'latitude must be a finite number', `${path}[1]`)
  if (lat < -90 || lat > 90) throw new GeoError('INVALID_POSITION', `latitude ${lat} is outside [-90, 90]`, `${path}[1]`)
  if (strictLon && (lon < -180 || lon > 180)) throw new GeoError('INVALID_POSITION', `longitude ${lon} is outside [-180, 180]`, `${path}[0]`)
  return value as unknown as Position
}

export function checkPositions(value: unknown, path: string, min: number, what: string, strictLon = false): Position[] {
  if (!Array.isArray(value) || value.length < min) throw new GeoError('INVALID_GEOMETRY', `${what} needs at least ${min} positions`, path)
  return value.map((p, i) => checkPosition(p, `${path}[${i}]`, strictLon))
}

/** Distinct positions, counting at most `upTo` (a string Set here cost 60 µs per fence). */
export function distinctCount(ps: readonly Position[], upTo: number): number {
  const seen: Position[] = []
  for (const p of ps) {
    if (!seen.some((q) => q[0] === p[0] && q[1] === p[1])) seen.push(p)
    if (seen.length >= upTo) break
  }
  return seen.length
}

export function checkRing(ps: readonly Position[], path: string): void {
  if (ps.length < 4) throw new GeoError('INVALID_GEOMETRY', 'a linear ring needs at least 4 positions', path)
  const first = ps[0]!, last = ps[ps.length - 1]!
  if (first[0] !== last[0] || first[1] !== last[1]) throw new GeoError('INVALID_GEOMETRY', 'a linear ring must be closed (last position = first)', path)
  if (distinctCount(ps, 3) < 3) throw new GeoError('INVALID_GEOMETRY', 'a linear ring needs at least 3 distinct positions', path)
}

export function checkPositiveM(value: unknown, code: 'INVALID_RADIUS' | 'INVALID_WIDTH', path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new GeoError(code, 'must be a finite number of metres above 0', path)
  return value
}
