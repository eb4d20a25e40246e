// Routes: a road line plus ordered stops. Shipped routes are GeoJSON FeatureCollections in
// devices/routes/*.geojson (one LineString, Point features for the stops).
import { readFileSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RoutePath } from './motion/path.js'

export type StopType = 'pickup' | 'delivery' | 'waypoint'
const STOP_TYPES: readonly string[] = ['pickup', 'delivery', 'waypoint']

export interface RouteStop {
  name: string
  type: StopType
  lat: number
  lon: number
  /** planned dwell, seconds (0 = drive through) */
  plannedDwellS: number
  radiusM?: number
  /** where the stop lies along the line, metres */
  distanceM: number
}

export interface Route {
  name: string
  description: string
  path: RoutePath
  stops: RouteStop[]
  /** road speed limit for the whole route (e.g. 50 in a city); vehicles never cruise above it */
  maxSpeedKmh?: number
}

export const ROUTES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'routes')

interface GeoFeature { type: string, geometry?: { type?: string, coordinates?: unknown }, properties?: Record<string, unknown> | null }

/** Parses one route FeatureCollection; throws with the route's name on anything malformed. */
export function parseRoute(name: string, json: unknown): Route {
  const fail = (why: string): never => { throw new Error(`route ${name}: ${why}`) }
  const fc = json as { type?: string, features?: GeoFeature[], properties?: Record<string, unknown> }
  if (fc?.type !== 'FeatureCollection' || !Array.isArray(fc.features)) fail('not a FeatureCollection')
  const features = fc.features ?? []
  const line = features.find((f) => f.geometry?.type === 'LineString')
  if (!line) return fail('no LineString feature')
  const coords = line.geometry?.coordinates
  if (!Array.isArray(coords) || !coords.every((c) => Array.isArray(c) && c.length >= 2 && c.every((x) => typeof x === 'number'))) fail('bad LineString coordinates')
  const path = new RoutePath(coords as number[][])
  // stops are listed in driving order; each is placed on the line at or after the one before it
  let fromM = 0
  const stops = features.filter((f) => f.geometry?.type === 'Point').map((f, i): RouteStop => {
    const [lon, lat] = (f.geometry?.coordinates ?? []) as number[]
    const p = f.properties ?? {}
    if (typeof lon !== 'number' || typeof lat !== 'number') fail(`stop ${i} has no coordinates`)
    const type = String(p['type'])
    if (!STOP_TYPES.includes(type)) fail(`stop ${i} type must be pickup|delivery|waypoint, not ${type}`)
    const dwell = Number(p['plannedDwellS'] ?? 0)
    if (!Number.isFinite(dwell) || dwell < 0) fail(`stop ${i} plannedDwellS must be >= 0`)
    return {
      name: typeof p['name'] === 'string' ? p['name'] : `stop ${i + 1}`, type: type as StopType, lat: lat!, lon: lon!, plannedDwellS: dwell,
      ...(typeof p['radiusM'] === 'number' ? { radiusM: p['radiusM'] } : {}),
      distanceM: (fromM = path.project(lat!, lon!, fromM)),
    }
  })
  if (stops.length < 2) fail('needs at least two stops')
  const props = line.properties ?? {}
  const maxSpeedKmh = typeof props['maxSpeedKmh'] === 'number' ? { maxSpeedKmh: props['maxSpeedKmh'] } : {}
  return { name, description: typeof props['description'] === 'string' ? props['description'] : '', path, stops, ...maxSpeedKmh }
}

export function loadRouteFile(file: string): Route {
  return parseRoute(basename(file).replace(/\.geojson$/, ''), JSON.parse(readFileSync(file, 'utf8')))
}

/** The names of the shipped routes, in the order they are driven round-robin (without loading them). */
export function shippedRouteNames(dir = ROUTES_DIR): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.geojson')).sort().map((f) => f.replace(/\.geojson$/, ''))
}

/** Every shipped route, sorted by name. */
export function loadShippedRoutes(dir = ROUTES_DIR): Route[] {
  return shippedRouteNames(dir).map((name) => loadRouteFile(join(dir, `${name}.geojson`)))
}

/** The same road driven back: stops in reverse, the new first stop a pickup and the new last a delivery. */
export function reverseRoute(route: Route): Route {
  const path = new RoutePath(route.path.coordinates().reverse())
  const stops = [...route.stops].reverse().map((s, i, all): RouteStop => ({
    ...s,
    type: i === 0 ? 'pickup' : i === all.length - 1 ? 'delivery' : s.type,
    distanceM: path.lengthM - s.distanceM,
  }))
  return { ...route, name: `${route.name} (return)`, path, stops }
}

/** A route as a GeoJSON FeatureCollection (what the generator writes and the loader reads). */
export function routeToGeoJson(route: Pick<Route, 'name' | 'description' | 'maxSpeedKmh'> & { stops: Omit<RouteStop, 'distanceM'>[], coordinates: [number, number][] }) {
  const limit = route.maxSpeedKmh !== undefined ? { maxSpeedKmh: route.maxSpeedKmh } : {}
  return {
    type: 'FeatureCollection' as const,
    features: [
      { type: 'Feature' as const, properties: { name: route.name, description: route.description, ...limit }, geometry: { type: 'LineString' as const, coordinates: route.coordinates } },
      ...route.stops.map((s) => ({
        type: 'Feature' as const,
        properties: { name: s.name, type: s.type, plannedDwellS: s.plannedDwellS, ...(s.radiusM !== undefined ? { radiusM: s.radiusM } : {}) },
        geometry: { type: 'Point' as const, coordinates: [s.lon, s.lat] },
      })),
    ],
  }
}
