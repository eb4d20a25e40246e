import { describe, expect, it } from 'vitest'
import { destination, haversineM } from '../../../src/geo/distance.js'
import { GeoError } from '../../../src/geo/errors.js'
import { isWithin, signedDistanceM } from '../../../src/geo/shapes.js'
import type { CircleShape, CorridorShape, PolygonShape, Position, Shape } from '../../../src/geo/types.js'

/** metres of `deg` degrees of arc (latitude anywhere, longitude on the equator) */
const deg = (d: number) => haversineM([0, 0], [0, d])

type Row = [string, Position, number]
const check = (shape: Shape) => (_: string, point: Position, expected: number) => {
  // on the boundary means exactly 0 (inside), not a rounding residue of either sign
  if (expected === 0) expect(signedDistanceM(shape, point)).toBe(0)
  else expect(signedDistanceM(shape, point)).toBeCloseTo(expected, 2)
}

describe('circle', () => {
  const paris: CircleShape = { kind: 'circle', center: [2.35, 48.85], radiusM: 500 }
  it.each<Row>([
    ['the centre is radius deep', [2.35, 48.85], -500],
    ...[0, 45, 90, 180, 270].map((b): Row => [`exactly on the boundary at bearing ${b}`, destination(paris.center, b, 500), 0]),
    ['1 m inside', destination(paris.center, 30, 499), -1],
    ['1 m outside', destination(paris.center, 30, 501), 1],
    ['1 km away', destination(paris.center, 200, 1500), 1000],
  ])('%s', check(paris))

  const antimeridian: CircleShape = { kind: 'circle', center: [179.999, 0], radiusM: 1000 }
  it.each<Row>([
    ['across the antimeridian, inside', [-179.995, 0], deg(0.006) - 1000],
    ['across the antimeridian, outside', [-179.99, 0], deg(0.011) - 1000],
  ])('antimeridian: %s', check(antimeridian))

  it.each<[string, CircleShape, Position, number]>([
    ['85°N, 1 m inside', { kind: 'circle', center: [30, 85], radiusM: 1000 }, destination([30, 85], 90, 999), -1],
    ['85°S, 1 m outside', { kind: 'circle', center: [-150, -85], radiusM: 1000 }, destination([-150, -85], 300, 1001), 1],
    ['85°N, other side of the pole', { kind: 'circle', center: [30, 85], radiusM: 1000 }, [-150, 85], deg(10) - 1000],
  ])('poles: %s', (_, shape, point, expected) => {
    expect(signedDistanceM(shape, point)).toBeCloseTo(expected, 2)
  })
})

describe('polygon with a hole (square of 0.01° on the equator, hole 0.004–0.006°)', () => {
  const square: PolygonShape = {
    kind: 'polygon',
    rings: [
      [[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]],
      [[0.004, 0.004], [0.006, 0.004], [0.006, 0.006], [0.004, 0.006], [0.004, 0.004]],
    ],
  }
  it.each<Row>([
    ['inside, nearest the outer edge', [0.001, 0.005], -deg(0.001)],
    ['inside, between the outer edge and the hole', [0.002, 0.005], -deg(0.002)],
    ['inside, nearest the hole', [0.0035, 0.005], -deg(0.0005)],
    ['on an outer edge', [0.005, 0], 0],
    ['on an outer vertex', [0, 0], 0],
    ['on the opposite outer vertex', [0.01, 0.01], 0],
    ['inside the hole is outside', [0.005, 0.005], deg(0.001)],
    ['inside the hole, near its edge', [0.0045, 0.005], deg(0.0005)],
    ['on a hole edge', [0.004, 0.005], 0],
    ['on a hole vertex', [0.006, 0.004], 0],
    ['outside, beside an edge', [0.012, 0.005], deg(0.002)],
    ['outside, diagonal from a vertex', [0.011, 0.011], haversineM([0.011, 0.011], [0.01, 0.01])],
  ])('%s', check(square))
})

describe('points on the edges of a skewed polygon (coordinates that are not round in binary)', () => {
  const a: Position = [2.3522, 48.8566], b: Position = [2.3617, 48.8611], c: Position = [2.3555, 48.8702]
  const tri: PolygonShape = { kind: 'polygon', rings: [[a, b, c, a]] }
  const lerp = (p: Position, q: Position, t: number): Position => [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]
  it.each<Row>([
    ...[0.1, 0.25, 0.5, 0.7, 0.9].flatMap((t): Row[] => [
      [`edge ab at t = ${t}`, lerp(a, b, t), 0],
      [`edge bc at t = ${t}`, lerp(b, c, t), 0],
      [`edge ca at t = ${t}`, lerp(c, a, t), 0],
    ]),
    ['vertex b', b, 0],
  ])('%s is inside with distance 0', check(tri))
})

describe('concave polygon (a U open to the north)', () => {
  const u: PolygonShape = {
    kind: 'polygon',
    rings: [[[0, 0], [0.03, 0], [0.03, 0.03], [0.02, 0.03], [0.02, 0.01], [0.01, 0.01], [0.01, 0.03], [0, 0.03], [0, 0]]],
  }
  it.each<Row>([
    ['in the notch is outside', [0.015, 0.02], deg(0.005)],
    ['in the left arm', [0.005, 0.02], -deg(0.005)],
    ['in the base', [0.015, 0.005], -deg(0.005)],
    ['on the reflex vertex', [0.01, 0.01], 0],
    ['on the notch floor', [0.015, 0.01], 0],
    // rays through vertices: the half-open rule must count each vertex once
    ['inside, level with the notch floor (ray through 2 vertices)', [0.005, 0.01], -deg(0.005)],
    ['outside to the west, level with the notch floor', [-0.005, 0.01], deg(0.005)],
    ['outside to the west, level with the arm tops (ray through 4 vertices)', [-0.005, 0.03], deg(0.005)],
    ['inside the right arm, level with the notch floor', [0.025, 0.01], -deg(0.005)],
  ])('%s', check(u))
})

describe('polygon across the antimeridian (0.02° square centred on 180°)', () => {
  const box: PolygonShape = { kind: 'polygon', rings: [[[179.99, -0.01], [-179.99, -0.01], [-179.99, 0.01], [179.99, 0.01], [179.99, -0.01]]] }
  it.each<Row>([
    ['the centre written as 180', [180, 0], -deg(0.01)],
    ['the centre written as -180', [-180, 0], -deg(0.01)],
    ['inside, west half', [179.995, 0], -deg(0.005)],
    ['inside, east half', [-179.995, 0.005], -deg(0.005)],
    ['on the east edge', [-179.99, 0], 0],
    ['outside to the west', [179.98, 0], deg(0.01)],
    ['outside to the east', [-179.98, 0], deg(0.01)],
    ['on the other side of the world', [0, 0], deg(179.99)],
  ])('%s', check(box))
})

describe('polygon near the south pole (85°S)', () => {
  const polar: PolygonShape = { kind: 'polygon', rings: [[[10, -85.01], [10.1, -85.01], [10.1, -84.99], [10, -84.99], [10, -85.01]]] }
  it.each<Row>([
    ['inside, nearest a meridian edge', [10.05, -85], -haversineM([10.05, -85], [10, -85])],
    ['outside, north of it', [10.05, -84.98], deg(0.01)],
    ['on a vertex', [10.1, -84.99], 0],
  ])('%s', check(polar))
})

describe('corridor (round caps): 200 m wide, east 0.02° then north 0.01° at 45°N', () => {
  const start: Position = [2, 45], bend: Position = [2.02, 45], end: Position = [2.02, 45.01]
  const road: CorridorShape = { kind: 'corridor', line: [start, bend, end], widthM: 200 }
  const middle: Position = [2.01, 45]
  it.each<Row>([
    ['on the line', middle, -100],
    ['beside the middle, on the edge', destination(middle, 0, 100), 0],
    ['beside the middle, 1 m inside', destination(middle, 180, 99), -1],
    ['beside the middle, 1 m outside', destination(middle, 0, 101), 1],
    ['on the start cap, straight back', destination(start, 270, 100), 0],
    ['just beyond the start cap', destination(start, 270, 100.5), 0.5],
    ['on the start cap, diagonally (round, not flat: a flat cap excludes it)', destination(start, 225, 99), -1],
    ['beyond the start cap diagonally (round, not square: a square cap includes it)', destination(start, 225, 120), 20],
    ['on the end cap', destination(end, 0, 100), 0],
    ['just beyond the end cap', destination(end, 0, 101), 1],
    ['outside the bend', destination(bend, 135, 150), 50],
  ])('%s', check(road))

  const dateline: CorridorShape = { kind: 'corridor', line: [[179.99, 10], [-179.99, 10]], widthM: 1000 }
  it.each<Row>([
    ['on the line at 180', [180, 10], -500],
    ['on the edge at 180', destination([180, 10], 0, 500), 0],
    ['beyond the west cap', [179.98, 10], haversineM([179.98, 10], [179.99, 10]) - 500],
  ])('across the antimeridian: %s', check(dateline))
})

describe('isWithin and validation', () => {
  const c: CircleShape = { kind: 'circle', center: [0, 1], radiusM: 100 }
  it.each<[Position, number, boolean]>([
    [destination([0, 1], 0, 120), 0, false],
    [destination([0, 1], 0, 120), 25, true],
    [destination([0, 1], 0, 80), -10, true],
    [destination([0, 1], 0, 80), -30, false],
  ])('isWithin(%j, margin %d) = %s', (point, margin, expected) => {
    expect(isWithin(c, point, margin)).toBe(expected)
  })

  it.each<[string, Shape, string]>([
    ['NaN radius', { kind: 'circle', center: [0, 0], radiusM: Number.NaN }, 'INVALID_RADIUS'],
    ['latitude 95', { kind: 'circle', center: [0, 95], radiusM: 5 }, 'INVALID_POSITION'],
    ['zero width', { kind: 'corridor', line: [[0, 0], [1, 1]], widthM: 0 }, 'INVALID_WIDTH'],
    ['open ring', { kind: 'polygon', rings: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }, 'INVALID_GEOMETRY'],
    ['unknown kind', { kind: 'hexagon' } as unknown as Shape, 'UNSUPPORTED_KIND'],
  ])('refuses %s with a coded GeoError', (_, shape, code) => {
    expect(() => signedDistanceM(shape, [0, 0])).toThrow(GeoError)
    expect(() => signedDistanceM(shape, [0, 0])).toThrow(expect.objectContaining({ code }))
  })
})
