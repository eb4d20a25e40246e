import * as turf from '@turf/turf'
import { describe, expect, it } from 'vitest'
import {
  destination, EARTH_RADIUS_M, equirectangularM, fromLocal, haversineM, initialBearingDeg, localFrame, lonDelta, toLocal, wrapLon,
} from '../../../src/geo/distance.js'
import type { Position } from '../../../src/geo/types.js'

describe('haversineM', () => {
  it.each<[string, Position, Position, number]>([
    ['same point', [2.35, 48.85], [2.35, 48.85], 0],
    ['0.2° across the antimeridian on the equator', [179.9, 0], [-179.9, 0], 22_239.016],
    ['0.2° across the antimeridian at 60°N (half as far)', [179.9, 60], [-179.9, 60], 11_119.3],
    ['the same, unwrapped past 180', [179.9, 0], [180.1, 0], 22_239.016],
    ['Paris → London (sphere)', [2.3522, 48.8566], [-0.1276, 51.5072], 343_530],
    ['two spellings of the north pole', [0, 90], [123, 90], 0],
    ['across the pole at 85°N (10° of arc)', [0, 85], [180, 85], 1_111_950.8],
    ['antipodes (half the circumference)', [0, 0], [180, 0], Math.PI * EARTH_RADIUS_M],
  ])('%s', (_, a, b, expected) => {
    expect(haversineM(a, b)).toBeCloseTo(expected, expected > 100_000 ? -1 : 0)
    // an independent implementation: same radius, so the same answer
    expect(haversineM(a, b)).toBeCloseTo(turf.distance([a[0], a[1]], [b[0], b[1]], { units: 'meters' }), 3)
  })

  it('is symmetric', () => {
    expect(haversineM([179.95, -85], [-179.9, -84.9])).toBe(haversineM([-179.9, -84.9], [179.95, -85]))
  })
})

describe('initialBearingDeg', () => {
  it.each<[string, Position, Position, number]>([
    ['north', [10, 10], [10, 11], 0],
    ['east along the equator', [10, 0], [11, 0], 90],
    ['south', [10, 10], [10, 9], 180],
    ['west along the equator', [10, 0], [9, 0], 270],
    ['east across the antimeridian, not west round the world', [179.9, 0], [-179.9, 0], 90],
    ['west across the antimeridian', [-179.9, 0], [179.9, 0], 270],
  ])('%s', (_, a, b, expected) => {
    expect(initialBearingDeg(a, b)).toBeCloseTo(expected, 6)
  })
})

describe('destination', () => {
  it.each<[string, Position, number, number]>([
    ['1 km north-east of Paris', [2.35, 48.85], 45, 1000],
    ['2 km east across the antimeridian', [179.99, 0], 90, 2000],
    ['500 m west at 85°S', [10, -85], 270, 500],
    ['100 km south', [-70, -30], 180, 100_000],
  ])('%s lands at the requested distance and bearing', (_, origin, bearing, metres) => {
    const p = destination(origin, bearing, metres)
    expect(haversineM(origin, p)).toBeCloseTo(metres, 6)
    expect(initialBearingDeg(origin, p)).toBeCloseTo(bearing, 6)
    expect(p[0]).toBeGreaterThanOrEqual(-180)
    expect(p[0]).toBeLessThan(180)
  })

  it('wraps the longitude after crossing the antimeridian', () => {
    expect(destination([179.99, 0], 90, 2000)[0]).toBeCloseTo(-179.992, 3)
  })
})

describe('longitude helpers', () => {
  it.each([[190, -170], [-190, 170], [540, -180], [180, -180], [-180, -180], [12.5, 12.5], [-725, -5]])('wrapLon(%d) = %d', (lon, expected) => {
    expect(wrapLon(lon)).toBeCloseTo(expected, 9)
  })

  it.each([[179.9, -179.9, 0.2], [-179.9, 179.9, -0.2], [10, 20, 10], [-170, 170, -20]])('lonDelta(%d, %d) = %d', (from, to, expected) => {
    expect(lonDelta(from, to)).toBeCloseTo(expected, 9)
  })
})

describe('local equirectangular frame', () => {
  it.each<[string, Position, Position]>([
    ['Paris, 1 km east', [2.35, 48.85], [2.3636, 48.85]],
    ['60°N, diagonal', [25, 60], [25.01, 60.005]],
    ['across the antimeridian', [179.995, -10], [-179.995, -10.002]],
    ['85°N', [40, 85], [40.05, 85.003]],
  ])('%s: round-trips and measures short hops like haversine', (_, origin, p) => {
    const f = localFrame(origin)
    const [x, y] = toLocal(f, p)
    const back = fromLocal(f, x, y)
    expect(back[0]).toBeCloseTo(p[0], 9)
    expect(back[1]).toBeCloseTo(p[1], 9)
    const exact = haversineM(origin, p)
    expect(Math.hypot(x, y) / exact).toBeCloseTo(1, 2)
    expect(equirectangularM(origin, p) / exact).toBeCloseTo(1, 3)
  })

  it('puts a point east of the origin at positive x even across the antimeridian', () => {
    expect(toLocal(localFrame([179.99, 0]), [-179.99, 0])[0]).toBeCloseTo(0.02 * 111_194.93, 0)
  })
})
