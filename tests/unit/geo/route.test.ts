import { describe, expect, it } from 'vitest'
import { haversineM } from '../../../src/geo/distance.js'
import { GeoError } from '../../../src/geo/errors.js'
import { RouteLine, type LocateOptions } from '../../../src/geo/route.js'
import type { Position } from '../../../src/geo/types.js'

const deg = (d: number) => haversineM([0, 0], [0, d])

describe('RouteLine basics (east 0.01°, then north 0.01°, on the equator)', () => {
  const route = new RouteLine([[0, 0], [0.01, 0], [0.01, 0.01]])
  const leg = deg(0.01)

  it('measures its length as the sum of its segments', () => {
    expect(route.lengthM).toBeCloseTo(2 * leg, 6)
    expect(route.segments).toBe(2)
  })

  it.each<[string, Position, number, number, number]>([
    ['beside the first leg', [0.005, 0.0001], deg(0.005), deg(0.0001), 0],
    ['beside the second leg', [0.0101, 0.005], leg + deg(0.005), deg(0.0001), 1],
    ['on the corner (a tie: the earlier segment)', [0.01, 0], leg, 0, 0],
    ['before the start', [-0.001, 0], 0, deg(0.001), 0],
    ['past the end', [0.01, 0.012], 2 * leg, deg(0.002), 1],
  ])('locate: %s', (_, point, alongM, offsetM, segment) => {
    const m = route.locate(point)
    expect(m.alongM).toBeCloseTo(alongM, 2)
    expect(m.offsetM).toBeCloseTo(offsetM, 2)
    expect(m.segment).toBe(segment)
  })

  it.each<[number, Position]>([
    [0, [0, 0]],
    [leg / 2, [0.005, 0]],
    [leg, [0.01, 0]],
    [1.5 * leg, [0.01, 0.005]],
    [-100, [0, 0]],
    [1e9, [0.01, 0.01]],
  ])('pointAt(%d)', (alongM, expected) => {
    const p = route.pointAt(alongM)
    expect(haversineM(p, expected)).toBeLessThan(0.01)
  })

  it.each([[100, 600, 500], [600, 100, -500], [-50, 1e9, 2 * leg], [leg, leg, 0]])('distanceBetween(%d, %d) = %d', (a, b, expected) => {
    expect(route.distanceBetween(a, b)).toBeCloseTo(expected, 6)
  })
})

describe('RouteLine on a route that passes the same place twice', () => {
  // out 0.02° east, a 22 m hairpin north, back west: every place is passed twice, 22 m apart
  const hairpin = new RouteLine([[0, 0], [0.02, 0], [0.02, 0.0002], [0, 0.0002]])
  const out = (lon: number) => deg(lon)
  const back = (lon: number) => deg(0.02) + deg(0.0002) + deg(0.02 - lon)
  const nearOut: Position = [0.01, 0.00005], nearBack: Position = [0.01, 0.00015]

  it.each<[string, Position, number | undefined, LocateOptions, number]>([
    ['no hint: nearest leg (outbound)', nearOut, undefined, {}, out(0.01)],
    ['no hint: nearest leg (return)', nearBack, undefined, {}, back(0.01)],
    ['hint on the outbound leg keeps it there though the return leg is nearer', nearBack, out(0.009), {}, out(0.01)],
    ['hint on the return leg does not jump back though the outbound leg is nearer', nearOut, back(0.011), {}, back(0.01)],
    ['small backward noise within backM is allowed', nearOut, out(0.01) + 30, {}, out(0.01)],
    ['nothing near in a short window: the whole route is searched', nearBack, 0, { forwardM: 500 }, back(0.01)],
  ])('%s', (_, point, hint, options, alongM) => {
    expect(hairpin.locate(point, hint, options).alongM).toBeCloseTo(alongM, 0)
  })

  it('settles in the nearest segment of the first good stretch, not the end of the previous one', () => {
    // a 22 m first segment: its end is within slack of the real match on the next segment
    const r = new RouteLine([[0, 0], [0.0002, 0], [0.01, 0]])
    const m = r.locate([0.0003, 0.0001], 0)
    expect(m.segment).toBe(1)
    expect(m.alongM).toBeCloseTo(deg(0.0003), 1)
  })
})

describe('RouteLine across the antimeridian', () => {
  const r = new RouteLine([[179.99, 0], [-179.99, 0]])
  it('is 0.02° long, not 359.98°', () => {
    expect(r.lengthM).toBeCloseTo(deg(0.02), 3)
  })
  it('locates and interpolates across it', () => {
    expect(r.locate([-179.995, 0.0001]).alongM).toBeCloseTo(deg(0.015), 1)
    expect(haversineM(r.pointAt(deg(0.01)), [180, 0])).toBeLessThan(0.01)
  })
})

describe('RouteLine validation', () => {
  it.each<[string, unknown, string]>([
    ['a Polygon', { type: 'Polygon', coordinates: [] }, 'INVALID_GEOMETRY'],
    ['one position', { type: 'LineString', coordinates: [[0, 0]] }, 'INVALID_GEOMETRY'],
    ['one repeated position', { type: 'LineString', coordinates: [[0, 0], [0, 0]] }, 'INVALID_GEOMETRY'],
    ['longitude 181', { type: 'LineString', coordinates: [[0, 0], [181, 0]] }, 'INVALID_POSITION'],
  ])('refuses %s', (_, geometry, code) => {
    expect(() => RouteLine.fromGeoJSON(geometry)).toThrow(GeoError)
    expect(() => RouteLine.fromGeoJSON(geometry)).toThrow(expect.objectContaining({ code }))
  })
})
