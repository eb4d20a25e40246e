import { describe, expect, it } from 'vitest'
import { GeoError } from '../../../src/geo/errors.js'
import { fromGeoJSON } from '../../../src/geo/geojson.js'
import { signedDistanceM } from '../../../src/geo/shapes.js'
import type { ShapeKind } from '../../../src/geo/types.js'

const point = (coordinates: unknown) => ({ type: 'Point', coordinates })
const line = (coordinates: unknown) => ({ type: 'LineString', coordinates })
const polygon = (coordinates: unknown) => ({ type: 'Polygon', coordinates })
const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]

describe('fromGeoJSON: accepted', () => {
  it('circle from a Point, dropping the altitude', () => {
    expect(fromGeoJSON('circle', point([2, 48, 120]), 250)).toEqual({ kind: 'circle', center: [2, 48], radiusM: 250 })
  })

  it('polygon with a hole, evaluable at once', () => {
    const shape = fromGeoJSON('polygon', polygon([square, [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6], [0.4, 0.4]]]))
    expect(shape.kind).toBe('polygon')
    expect(signedDistanceM(shape, [0.5, 0.5])).toBeGreaterThan(0)
    expect(signedDistanceM(shape, [0.2, 0.2])).toBeLessThan(0)
  })

  it('corridor from a LineString with its full width', () => {
    const shape = fromGeoJSON('corridor', line([[0, 0], [0.01, 0]]), undefined, 300)
    expect(shape).toEqual({ kind: 'corridor', line: [[0, 0], [0.01, 0]], widthM: 300 })
    expect(signedDistanceM(shape, [0.005, 0])).toBeCloseTo(-150, 6)
  })

  it('a polygon crossing the antimeridian (each edge takes the short way round)', () => {
    const shape = fromGeoJSON('polygon', polygon([[[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]]]))
    expect(signedDistanceM(shape, [180, 0.5])).toBeLessThan(0)
  })
})

describe('fromGeoJSON: refused with a code and the offending path', () => {
  it.each<[string, ShapeKind, unknown, number | undefined, number | undefined, string, string]>([
    ['wrong geometry type for the kind', 'circle', polygon([square]), 10, undefined, 'INVALID_GEOMETRY', 'geometry.type'],
    ['not an object', 'polygon', 'POLYGON((0 0))', undefined, undefined, 'INVALID_GEOMETRY', 'geometry.type'],
    ['circle without a radius', 'circle', point([0, 0]), undefined, undefined, 'INVALID_RADIUS', 'radiusM'],
    ['negative radius', 'circle', point([0, 0]), -5, undefined, 'INVALID_RADIUS', 'radiusM'],
    ['longitude 200', 'circle', point([200, 0]), 10, undefined, 'INVALID_POSITION', 'geometry.coordinates[0]'],
    ['latitude 91', 'circle', point([0, 91]), 10, undefined, 'INVALID_POSITION', 'geometry.coordinates[1]'],
    ['a string coordinate', 'circle', point(['0', 1]), 10, undefined, 'INVALID_POSITION', 'geometry.coordinates[0]'],
    ['one-position line', 'corridor', line([[0, 0]]), undefined, 10, 'INVALID_GEOMETRY', 'geometry.coordinates'],
    ['line of one repeated position', 'corridor', line([[1, 1], [1, 1]]), undefined, 10, 'INVALID_GEOMETRY', 'geometry.coordinates'],
    ['corridor of width 0', 'corridor', line([[0, 0], [1, 1]]), undefined, 0, 'INVALID_WIDTH', 'widthM'],
    ['NaN in a ring', 'polygon', polygon([[[0, 0], [1, Number.NaN], [1, 1], [0, 0]]]), undefined, undefined, 'INVALID_POSITION', 'geometry.coordinates[0][1][1]'],
    ['no rings', 'polygon', polygon([]), undefined, undefined, 'INVALID_GEOMETRY', 'geometry.coordinates'],
    ['open ring', 'polygon', polygon([[[0, 0], [1, 0], [1, 1], [0, 1]]]), undefined, undefined, 'INVALID_GEOMETRY', 'geometry.coordinates[0]'],
    ['three-position ring', 'polygon', polygon([[[0, 0], [1, 0], [0, 0]]]), undefined, undefined, 'INVALID_GEOMETRY', 'geometry.coordinates[0]'],
    ['ring with only 2 distinct positions', 'polygon', polygon([[[0, 0], [1, 0], [0, 0], [0, 0]]]), undefined, undefined, 'INVALID_GEOMETRY', 'geometry.coordinates[0]'],
    ['bad hole', 'polygon', polygon([square, [[0.2, 0.2], [0.3, 0.2], [0.2, 0.2]]]), undefined, undefined, 'INVALID_GEOMETRY', 'geometry.coordinates[1]'],
    ['ring around the north pole', 'polygon', polygon([[[0, 80], [90, 80], [180, 80], [-90, 80], [0, 80]]]), undefined, undefined, 'TOO_WIDE', 'geometry.coordinates[0]'],
    ['polygon spanning 200° of longitude', 'polygon', polygon([[[0, 0], [100, 0], [-160, 1], [-160, 2], [100, 2], [0, 2], [0, 0]]]), undefined, undefined, 'TOO_WIDE', 'geometry.coordinates'],
    ['unknown kind', 'hexagon' as ShapeKind, point([0, 0]), 10, undefined, 'UNSUPPORTED_KIND', 'kind'],
  ])('%s', (_, kind, geometry, radiusM, widthM, code, path) => {
    let error: unknown
    try {
      fromGeoJSON(kind, geometry, radiusM, widthM)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(GeoError)
    expect(error).toMatchObject({ code, path })
    expect((error as Error).message.startsWith(`${path}: `)).toBe(true)
  })
})
