// Random multi-stop routes inside a bounding box: 3–5 stops in a roughly consistent direction (no
// zig-zag), joined by curved road-like lines. In a small box (a city) the speed limit is 50 km/h.
import { haversineM } from './geo.js'
import { uniform, type Rng } from './random.js'
import { shapeRoad } from './route-shape.js'
import { parseRoute, routeToGeoJson, type Route, type RouteStop } from './routes.js'

export type BBox = [minLon: number, minLat: number, maxLon: number, maxLat: number]

const CITY_DIAGONAL_M = 80_000

export function randomRoute(rng: Rng, bbox: BBox, name: string): Route {
  const [minLon, minLat, maxLon, maxLat] = bbox
  const insetLon = (maxLon - minLon) * 0.05, insetLat = (maxLat - minLat) * 0.05
  const count = 3 + Math.floor(rng() * 3)
  const angle = rng() * 2 * Math.PI
  const stops = Array.from({ length: count }, () => ({
    lon: uniform(rng, minLon + insetLon, maxLon - insetLon),
    lat: uniform(rng, minLat + insetLat, maxLat - insetLat),
  })).sort((a, b) => (a.lon * Math.cos(angle) + a.lat * Math.sin(angle)) - (b.lon * Math.cos(angle) + b.lat * Math.sin(angle)))

  // one bent control point per leg, so legs are not straight lines
  const waypoints = stops.flatMap((s, i) => {
    const next = stops[i + 1]
    if (!next) return [s]
    const bend = uniform(rng, -0.15, 0.15)
    const mid = { lat: (s.lat + next.lat) / 2 - (next.lon - s.lon) * bend, lon: (s.lon + next.lon) / 2 + (next.lat - s.lat) * bend }
    return [s, mid]
  })
  const coordinates = shapeRoad(waypoints, { spacingM: 300, wanderM: 40, rng })
  const diagonal = haversineM(minLat, minLon, maxLat, maxLon)
  const routeStops: Omit<RouteStop, 'distanceM'>[] = stops.map((s, i) => ({
    ...s,
    name: i === 0 ? `${name} depot` : `${name} drop ${i}`,
    type: i === 0 ? 'pickup' : 'delivery',
    plannedDwellS: i === 0 ? 1800 : Math.round(uniform(rng, 600, 1500) / 60) * 60,
  }))
  const geojson = routeToGeoJson({
    name, description: 'random route', coordinates, stops: routeStops,
    ...(diagonal < CITY_DIAGONAL_M ? { maxSpeedKmh: 50 } : {}),
  })
  return parseRoute(name, geojson)
}
