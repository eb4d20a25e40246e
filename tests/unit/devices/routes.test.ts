import { describe, expect, it } from 'vitest'
import { haversineM } from '../../../devices/geo.js'
import { randomRoute } from '../../../devices/random-route.js'
import { mulberry32 } from '../../../devices/random.js'
import { loadShippedRoutes, parseRoute, reverseRoute } from '../../../devices/routes.js'
import { straightRoute } from './helpers.js'

const shipped = loadShippedRoutes()

describe('shipped routes', () => {
  it('ships at least five routes', () => {
    expect(shipped.length).toBeGreaterThanOrEqual(5)
  })

  describe.each(shipped.map((r) => ({ name: r.name, r })))('$name', ({ r }) => {
    it('is a road-like line: hundreds of vertices, none more than 1.5 km apart, no U-turns', () => {
      expect(r.path.vertexCount).toBeGreaterThanOrEqual(200)
      let worstTurn = 0
      for (let i = 1; i < r.path.vertexCount; i++) {
        expect(r.path.cumM[i]! - r.path.cumM[i - 1]!).toBeLessThan(1500)
        if (i < r.path.vertexCount - 1) {
          const a = r.path.pointAt((r.path.cumM[i - 1]! + r.path.cumM[i]!) / 2).heading
          const b = r.path.pointAt((r.path.cumM[i]! + r.path.cumM[i + 1]!) / 2).heading
          worstTurn = Math.max(worstTurn, Math.abs(((b - a + 540) % 360) - 180))
        }
      }
      expect(worstTurn).toBeLessThan(100)
    })

    it('starts with a pickup, ends with a delivery, and every stop lies on the line', () => {
      expect(r.stops[0]!.type).toBe('pickup')
      expect(r.stops.at(-1)!.type).toBe('delivery')
      expect(r.stops[0]!.distanceM).toBe(0)
      expect(r.stops.at(-1)!.distanceM).toBeCloseTo(r.path.lengthM, 3)
      let last = -1
      for (const stop of r.stops) {
        const onLine = r.path.pointAt(stop.distanceM)
        expect(haversineM(stop.lat, stop.lon, onLine.lat, onLine.lon)).toBeLessThan(1)
        expect(stop.distanceM).toBeGreaterThan(last)
        expect(stop.plannedDwellS).toBeGreaterThanOrEqual(0)
        last = stop.distanceM
      }
    })
  })

  it('rejects a route without stops or with an unknown stop type', () => {
    const line = { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[13, 52], [13, 52.1]] } }
    const stop = (type: string) => ({ type: 'Feature', properties: { type, name: 'x' }, geometry: { type: 'Point', coordinates: [13, 52] } })
    expect(() => parseRoute('bad', { type: 'FeatureCollection', features: [line] })).toThrow(/at least two stops/)
    expect(() => parseRoute('bad', { type: 'FeatureCollection', features: [line, stop('pickup'), stop('party')] })).toThrow(/pickup\|delivery\|waypoint/)
  })

  it('drives a route back: stops reversed, first a pickup, last a delivery, distances mirrored', () => {
    const r = straightRoute(30, [[0, 'pickup', 600], [10, 'waypoint', 0], [30, 'delivery', 600]])
    const back = reverseRoute(r)
    expect(back.stops.map((s) => s.type)).toEqual(['pickup', 'waypoint', 'delivery'])
    expect(back.stops.map((s) => Math.round(s.distanceM))).toEqual([0, 20_000, 30_000].map((d) => Math.round(d * (r.path.lengthM / 30_000))))
  })
})

describe('random routes', () => {
  it.each([1, 2, 3, 4, 5])('seed %i: 3–5 stops inside the box, on a curved line', (seed) => {
    const bbox: [number, number, number, number] = [13.0, 52.3, 13.8, 52.7]
    const r = randomRoute(mulberry32(seed), bbox, `random-${seed}`)
    expect(r.stops.length).toBeGreaterThanOrEqual(3)
    expect(r.stops.length).toBeLessThanOrEqual(5)
    expect(r.stops[0]!.type).toBe('pickup')
    for (let i = 0; i < r.path.vertexCount; i++) {
      expect(r.path.lons[i]).toBeGreaterThan(bbox[0] - 0.1)
      expect(r.path.lons[i]).toBeLessThan(bbox[2] + 0.1)
      expect(r.path.lats[i]).toBeGreaterThan(bbox[1] - 0.1)
      expect(r.path.lats[i]).toBeLessThan(bbox[3] + 0.1)
    }
    const straight = haversineM(r.stops[0]!.lat, r.stops[0]!.lon, r.stops.at(-1)!.lat, r.stops.at(-1)!.lon)
    expect(r.path.lengthM).toBeGreaterThan(straight)
    expect(r.maxSpeedKmh).toBe(50)
  })
})
