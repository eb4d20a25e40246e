import { describe, expect, it } from 'vitest'
import { fixesFor, mixedFences, type Area, type GeneratedFence } from '../../../bench/lib/fences.js'
import { rng } from '../../../bench/lib/prng.js'
import { destination } from '../../../src/geo/distance.js'
import { GeoError } from '../../../src/geo/errors.js'
import { GeofenceIndex, type FenceEntry } from '../../../src/geo/fence-index.js'
import { prepareShape } from '../../../src/geo/shapes.js'
import type { Position } from '../../../src/geo/types.js'

describe('GeofenceIndex: same answers as a loop over every fence (seeded property test)', () => {
  // dense areas so fences overlap and many points have hits, plus the awkward places
  const areas: [Area, number][] = [
    [{ minLon: 4.8, minLat: 45.6, maxLon: 5.4, maxLat: 46.0 }, 400], // ~50 × 45 km
    [{ minLon: 179.85, minLat: -20.1, maxLon: 180.15, maxLat: -19.9 }, 300], // across the antimeridian
    [{ minLon: 20, minLat: 84.9, maxLon: 21.5, maxLat: 85.1 }, 200], // 85°N
    [{ minLon: -180, minLat: 89.9, maxLon: 180, maxLat: 89.97 }, 100], // at the pole
  ]
  const r = rng(20240601)
  const fences: GeneratedFence[] = []
  const points: Position[] = []
  for (const [area, count] of areas) {
    const local = mixedFences(r, count, area).map((f) => ({ ...f, id: `${fences.length}-${f.id}` }))
    fences.push(...local)
    points.push(...fixesFor(r, local, count * 2, 0.8, area))
  }
  // exact vertices of polygons: on the boundary, so inside with distance 0
  for (let i = 0; i < 40; i++) {
    const f = fences[r.int(0, fences.length - 1)]!
    if (f.shape.kind === 'polygon') points[i] = f.shape.rings[0]![0]!
  }
  const index = new GeofenceIndex(fences)

  it('has the sizes the test claims', () => {
    expect(fences).toHaveLength(1000)
    expect(points).toHaveLength(2000)
    expect(index.size).toBe(1000)
  })

  it.each([0, 75, -30])('margin %d m: same fences, same distances, for every point', (margin) => {
    let hits = 0
    const prepared = fences.map((f) => prepareShape(f.shape))
    for (const p of points) {
      const brute: { id: string, signedDistanceM: number }[] = []
      for (const [i, f] of fences.entries()) {
        const d = prepared[i]!.signedDistanceM(p[0], p[1])
        if (d <= margin) brute.push({ id: f.id, signedDistanceM: d })
      }
      brute.sort((a, b) => (a.id < b.id ? -1 : 1))
      const got = [...index.query(p, margin)].sort((a, b) => (a.id < b.id ? -1 : 1))
      expect(got, `point ${p[0]}, ${p[1]}`).toEqual(brute)
      hits += got.length
    }
    // the comparison means nothing if both sides are (nearly) always empty
    expect(hits).toBeGreaterThan(3000)
  })
})

describe('GeofenceIndex: specific cases', () => {
  const fences: FenceEntry[] = [
    { id: 'big', shape: { kind: 'circle', center: [2.35, 48.85], radiusM: 2000 } },
    { id: 'small', shape: { kind: 'circle', center: [2.35, 48.85], radiusM: 300 } },
    { id: 'dateline-circle', shape: { kind: 'circle', center: [-179.999, 0], radiusM: 50 } },
    { id: 'dateline-circle-west', shape: { kind: 'circle', center: [179.999, 5], radiusM: 50 } },
    { id: 'dateline-box', shape: { kind: 'polygon', rings: [[[179.99, 10], [-179.99, 10], [-179.99, 10.01], [179.99, 10.01], [179.99, 10]]] } },
    { id: 'pole', shape: { kind: 'circle', center: [0, 89.995], radiusM: 1000 } },
    { id: 'road', shape: { kind: 'corridor', line: [[5, 45], [5.02, 45]], widthM: 100 } },
  ]
  const index = new GeofenceIndex(fences)
  const ids = (p: Position, margin = 0) => index.query(p, margin).map((h) => h.id)

  it.each<[string, Position, number, string[]]>([
    ['inside two nested fences, deepest first', [2.35, 48.85], 0, ['big', 'small']],
    ['inside only the big one', destination([2.35, 48.85], 90, 1000), 0, ['big']],
    ['just outside the small one, within a 50 m margin', destination([2.35, 48.85], 90, 330), 50, ['big', 'small']],
    ['just outside the small one, no margin', destination([2.35, 48.85], 90, 330), 0, ['big']],
    ['at least 100 m deep (negative margin)', destination([2.35, 48.85], 90, 250), -100, ['big']],
    ['dateline box from the west side', [179.995, 10.005], 0, ['dateline-box']],
    ['dateline box from the east side', [-179.995, 10.005], 0, ['dateline-box']],
    ['dateline box at 180', [180, 10.005], 0, ['dateline-box']],
    ['dateline circle reached across the antimeridian by the margin', [179.999, 0], 200, ['dateline-circle']],
    ['dateline circle out of reach without it', [179.999, 0], 0, []],
    ['the mirror case: a west-side circle reached from the east side', [-179.999, 5], 200, ['dateline-circle-west']],
    ['the mirror case without the margin', [-179.999, 5], 0, []],
    ['polar circle from the far side of the pole', [180, 89.998], 0, ['pole']],
    ['corridor edge', destination([5.01, 45], 0, 50), 0, ['road']],
    ['nothing here', [-40, -40], 1000, []],
  ])('%s', (_, point, margin, expected) => {
    expect(ids(point, margin)).toEqual(expected)
  })

  it('reports each fence once even when both its antimeridian boxes match', () => {
    expect(index.query([180, 10.005], 5000).filter((h) => h.id === 'dateline-box')).toHaveLength(1)
  })

  it('reports signed distances', () => {
    const [hit] = index.query(destination([2.35, 48.85], 90, 330), 50).filter((h) => h.id === 'small')
    expect(hit?.signedDistanceM).toBeCloseTo(30, 6)
  })

  it('an empty index answers nothing', () => {
    expect(new GeofenceIndex([]).query([0, 0], 1e6)).toEqual([])
  })

  it.each<[string, FenceEntry[], string, string]>([
    ['a duplicate id', [fences[0]!, { ...fences[1]!, id: 'big' }], 'DUPLICATE_ID', 'fences[1].id'],
    ['an invalid shape', [fences[0]!, { id: 'x', shape: { kind: 'circle', center: [0, 0], radiusM: -1 } }], 'INVALID_RADIUS', 'fences[1].shape.radiusM'],
  ])('refuses %s', (_, entries, code, path) => {
    expect(() => new GeofenceIndex(entries)).toThrow(GeoError)
    expect(() => new GeofenceIndex(entries)).toThrow(expect.objectContaining({ code, path }))
  })
})
