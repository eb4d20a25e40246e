// Small fixtures for the simulator's unit tests.
import { parseRoute, routeToGeoJson, type Route, type StopType } from '../../../devices/routes.js'
import { DEFAULT_MOTION, type MotionParams } from '../../../devices/motion/params.js'

/** A straight road north from (52, 13) with vertices every 250 m and stops at the given kilometres. */
export function straightRoute(lengthKm: number, stops: [km: number, type: StopType, dwellS: number][], maxSpeedKmh?: number): Route {
  const stepDeg = 0.25 / 111.195 // 250 m of latitude
  const n = Math.round((lengthKm * 1000) / 250)
  const coordinates = Array.from({ length: n + 1 }, (_, i): [number, number] => [13, 52 + i * stepDeg])
  const geojson = routeToGeoJson({
    name: 'straight', description: 'test road', coordinates,
    stops: stops.map(([km, type, dwellS], i) => ({ name: `stop ${i}`, type, plannedDwellS: dwellS, lon: 13, lat: 52 + ((km * 1000) / 250) * stepDeg })),
    ...(maxSpeedKmh !== undefined ? { maxSpeedKmh } : {}),
  })
  return parseRoute('straight', geojson)
}

export const params = (overrides: Partial<MotionParams> = {}): MotionParams => ({ ...DEFAULT_MOTION, ...overrides })

/** A manual monotonic clock for limiter tests. */
export function manualClock(start = 0) {
  let t = start
  return { now: () => t, advance: (ms: number) => { t += ms } }
}
