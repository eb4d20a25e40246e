// Regenerates devices/routes/*.geojson from ./route-sources.ts: `npx tsx devices/tools/generate-routes.ts`.
// Deterministic (a fixed seed per route), so the committed files only change when the sources do.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { shapeRoad } from '../route-shape.js'
import { ROUTES_DIR, routeToGeoJson } from '../routes.js'
import { deriveSeed, mulberry32 } from '../random.js'
import { ROUTE_SOURCES } from './route-sources.js'

ROUTE_SOURCES.forEach((source, index) => {
  const rng = mulberry32(deriveSeed(20240601, index))
  const points = source.waypoints.map(([lat, lon]) => ({ lat, lon }))
  const coordinates = shapeRoad(points, { spacingM: source.spacingM, wanderM: source.wanderM, rng })
  const stops = source.waypoints.flatMap((w) => w.length === 5 ? [{ lat: w[0], lon: w[1], name: w[2], type: w[3], plannedDwellS: w[4] }] : [])
  const geojson = routeToGeoJson({ name: source.name, description: source.description, coordinates, stops, ...(source.maxSpeedKmh ? { maxSpeedKmh: source.maxSpeedKmh } : {}) })
  writeFileSync(join(ROUTES_DIR, `${source.name}.geojson`), JSON.stringify(geojson) + '\n')
  console.log(`${source.name}: ${coordinates.length} vertices, ${stops.length} stops`)
})
