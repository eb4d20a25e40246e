// Ring simplicity (src/geo/self-intersection.ts, orientation.ts): exact predicates, the cases the
// API refuses or accepts, the shapes that made turf's kinks() quadratic, and agreement with kinks()
// and with an all-pairs reference on seeded random polygons.
import { kinks, polygon } from '@turf/turf'
import { describe, expect, it } from 'vitest'
import { rng, type Rng } from '../../../bench/lib/prng.js'
import { GeoError } from '../../../src/geo/errors.js'
import { orientation, segmentsMeet } from '../../../src/geo/orientation.js'
import { findRingCrossing, insideRing } from '../../../src/geo/self-intersection.js'

type P = [number, number]
const closed = (ps: P[]): P[] => [...ps, ps[0]!]
const square = (x: number, y: number, size: number): P[] => closed([[x, y], [x + size, y], [x + size, y + size], [x, y + size]])
const kinked = (rings: P[][]) => kinks(polygon(rings)).features.length > 0

/** The definition, in O(n²): some two edges that do not follow each other in a ring share a point. */
function allPairs(rings: P[][]): boolean {
  const edges = rings.flatMap((ring, r) => ring.slice(1).map((b, k) => ({ r, k, m: ring.length - 1, a: ring[k]!, b })))
  return edges.some((e, i) => edges.slice(i + 1).some((f) => {
    const d = Math.abs(e.k - f.k)
    if (e.r === f.r && (d === 1 || d === e.m - 1)) return false
    return segmentsMeet(e.a[0], e.a[1], e.b[0], e.b[1], f.a[0], f.a[1], f.b[0], f.b[1]) !== undefined
  }))
}

describe('orientation', () => {
  it('gives the turn of three points, 0 when collinear or repeated', () => {
    expect(orientation(0, 0, 1, 0, 1, 1)).toBe(1)
    expect(orientation(0, 0, 1, 0, 1, -1)).toBe(-1)
    expect(orientation(0, 0, 1, 1, 3, 3)).toBe(0)
    expect(orientation(2.35, 48.85, 2.35, 48.85, 7, 7)).toBe(0)
  })

  it('is exact for nearly collinear points, where the plain double formula is not', () => {
    // reference: for 2^-8 ≤ |x| < 2^11, x · 2^60 is an integer double, so BigInt arithmetic on it is exact
    const big = (x: number) => BigInt(x * 2 ** 60)
    const exact = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => {
      const d = (big(ax) - big(cx)) * (big(by) - big(cy)) - (big(ay) - big(cy)) * (big(bx) - big(cx))
      return d > 0n ? 1 : d < 0n ? -1 : 0
    }
    const naive = (ax: number, ay: number, bx: number, by: number, cx: number, cy: number) => Math.sign((ax - cx) * (by - cy) - (ay - cy) * (bx - cx))
    const r = rng(71)
    const coordinate = (): number => {
      const x = r.range(-180, 180)
      return Math.abs(x) < 2 ** -8 ? coordinate() : x
    }
    /** x moved by k units in the last place */
    const nudge = (x: number, k: number) => x + k * 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52)
    let naiveWrong = 0, checked = 0
    for (let i = 0; i < 6000; i++) {
      const [ax, ay, bx, by] = [coordinate(), coordinate(), coordinate(), coordinate()]
      // a third point on the line through a and b, rounded to doubles, then nudged by a few ulps
      const t = r.range(-1, 2)
      const cx = nudge(ax + t * (bx - ax), r.int(-2, 2)), cy = nudge(ay + t * (by - ay), r.int(-2, 2))
      if (Math.min(Math.abs(cx), Math.abs(cy)) < 2 ** -8) continue
      const want = exact(ax, ay, bx, by, cx, cy)
      expect(orientation(ax, ay, bx, by, cx, cy), JSON.stringify([ax, ay, bx, by, cx, cy])).toBe(want)
      if (naive(ax, ay, bx, by, cx, cy) !== want) naiveWrong++
      checked++
    }
    expect(checked).toBeGreaterThan(5000)
    expect(naiveWrong).toBeGreaterThan(100) // these are the hard cases
  })

  it('is exact at the ends of the double range, where the plain formula underflows or overflows', () => {
    const u = 2 ** -1074 // the smallest subnormal
    expect(orientation(0, 0, 1000 * u, 1000 * u, 2000 * u, 2001 * u)).toBe(1)
    expect(orientation(0, 0, 1000 * u, 1000 * u, 2000 * u, 2000 * u)).toBe(0)
    expect(orientation(0, 0, 2 ** 1000, 2 ** 1000, 2 ** 1001, 2 ** 1001 - 2 ** 948)).toBe(-1)
    expect(orientation(2 ** -500, 0, 1, 1, 2, 2 + 2 ** -51)).toBe(1)
  })
})

describe('segmentsMeet', () => {
  it.each([
    ['a proper crossing', [0, 0, 2, 2, 0, 2, 2, 0], [1, 1]],
    ['an end on the other segment (T)', [0, 0, 2, 0, 1, 0, 1, 5], [1, 0]],
    ['a shared end', [0, 0, 1, 1, 1, 1, 2, 0], [1, 1]],
    ['a collinear overlap', [0, 0, 4, 0, 3, 0, 6, 0], [4, 0]],
    ['collinear, end to end', [0, 0, 1, 0, 1, 0, 2, 0], [1, 0]],
    ['collinear, apart', [0, 0, 1, 0, 2, 0, 3, 0], undefined],
    ['parallel', [0, 0, 2, 0, 0, 1, 2, 1], undefined],
    ['the lines cross beyond the segments', [0, 0, 1, 1, 3, 0, 2, 1], undefined],
    ['a zero-length segment on the other', [0, 0, 2, 2, 1, 1, 1, 1], [1, 1]],
  ] as const)('%s', (_, s, at) => {
    const [x1, y1, x2, y2, x3, y3, x4, y4] = s
    expect(segmentsMeet(x1, y1, x2, y2, x3, y3, x4, y4)).toEqual(at)
    expect(segmentsMeet(x3, y3, x4, y4, x1, y1, x2, y2)).toEqual(at === undefined ? undefined : expect.any(Array))
  })
})

describe('findRingCrossing: cases', () => {
  it('accepts a square, a concave ring and a square with a hole', () => {
    expect(findRingCrossing([square(0, 0, 1)])).toBeUndefined()
    expect(findRingCrossing([closed([[0, 0], [4, 0], [4, 4], [2, 1], [0, 4]])])).toBeUndefined()
    expect(findRingCrossing([square(0, 0, 1), square(0.4, 0.4, 0.2)])).toBeUndefined()
  })

  it('accepts a vertex in the middle of a straight side, and vertical sides', () => {
    expect(findRingCrossing([closed([[0, 0], [1, 0], [2, 0], [2, 1], [2, 2], [0, 2], [0, 1]])])).toBeUndefined()
  })

  it('reports a bow-tie, naming both edges and where they cross', () => {
    expect(findRingCrossing([closed([[0, 0], [1, 1], [1, 0], [0, 1]])])).toEqual({ a: { ring: 0, edge: 0 }, b: { ring: 0, edge: 2 }, at: [0.5, 0.5] })
  })

  it('reports a vertex touching another edge of its ring', () => {
    // the ring comes back down to touch its first edge at [2, 0]
    const ring = closed([[0, 0], [4, 0], [4, 2], [2, 0], [0, 2]])
    expect(findRingCrossing([ring])).toMatchObject({ at: [2, 0] })
    expect(kinked([ring])).toBe(true)
  })

  it('reports a ring passing twice through one position (pinched figure eight)', () => {
    const ring = closed([[0, 0], [1, 1], [2, 0], [2, 2], [1, 1], [0, 2]])
    expect(findRingCrossing([ring])).toMatchObject({ at: [1, 1] })
    expect(kinked([ring])).toBe(true)
  })

  it('reports a position repeated in a row, as kinks() does (its neighbours\' edges meet there)', () => {
    const ring = closed([[0, 0], [1, 0], [1, 0], [1, 1], [0, 1]])
    expect(findRingCrossing([ring])).toMatchObject({ a: { ring: 0, edge: 0 }, b: { ring: 0, edge: 2 }, at: [1, 0] })
    expect(kinked([ring])).toBe(true)
  })

  it.each([
    ['a ring on one line, with 4 edges', [[0, 0], [1, 0], [2, 0], [3, 0]]],
    ['a triangle whose base is traversed three times', [[1, 0], [4, 0], [0, 1], [0, 0], [3, 0]]],
    ['a position repeated in a row on a straight stretch', [[0, 0], [2, 0], [2, 0], [4, 0], [4, 4], [0, 4]]],
  ] as [string, P[]][])('reports what kinks() misses because it never compares parallel edges: %s', (_, ps) => {
    expect(findRingCrossing([closed(ps)])).toMatchObject({ at: expect.any(Array) })
    expect(kinked([closed(ps)])).toBe(false)
  })

  it('reports a ring turning back on itself (a spike) when it has other edges', () => {
    expect(findRingCrossing([closed([[0, 0], [2, 0], [2, 2], [1, 2], [1, 3], [1, 2.5], [0, 2]])])).toMatchObject({ at: [1, 2.5] })
  })

  it('leaves 3 collinear positions alone, as kinks() does: their 3 edges are all adjacent (the area check refuses them)', () => {
    expect(findRingCrossing([closed([[0, 0], [1, 0], [2, 0]])])).toBeUndefined()
    // but such a ring is still checked against the others
    expect(findRingCrossing([square(0, 0, 4), closed([[1, 1], [2, 1], [5, 1]])])).toMatchObject({ a: { ring: 0 }, b: { ring: 1 } })
  })

  it('reports a hole crossing the outer ring, touching it, or crossing another hole', () => {
    expect(findRingCrossing([square(0, 0, 1), square(0.5, 0.5, 1)])).toMatchObject({ a: { ring: 0 }, b: { ring: 1 } })
    expect(findRingCrossing([square(0, 0, 1), closed([[0, 0.5], [0.5, 0.4], [0.5, 0.6]])])).toMatchObject({ a: { ring: 0 }, b: { ring: 1 }, at: [0, 0.5] })
    expect(findRingCrossing([square(0, 0, 1), square(0.2, 0.2, 0.3), square(0.4, 0.4, 0.3)])).toMatchObject({ a: { ring: 1 }, b: { ring: 2 } })
  })

  it('refuses rings that are not closed or have fewer than 3 distinct positions', () => {
    expect(() => findRingCrossing([[[0, 0], [1, 0], [1, 1], [0, 1]]])).toThrow(GeoError)
    expect(() => findRingCrossing([[[0, 0], [1, 0], [0, 0], [0, 0]]])).toThrow(GeoError)
  })
})

// The shapes that made kinks() slow, at the API's cap of 5,000 positions. Timings are not asserted;
// on the shared dev machine (Node 20, load ~10) each takes ~2–5 ms once warm (30–50 ms for the first
// call, JIT), where kinks() took 190–330 ms for the same rings and 1.4 s at 20,000 positions.
describe('findRingCrossing: large rings', () => {
  /** a 10-turn spiral band, out along one arm and back along the other: n positions (closing one included), every sweep line cuts ~40 edges */
  function spiral(n: number): P[] {
    const arm = (count: number, offset: number) => Array.from({ length: count }, (_, i): P => {
      const t = (i / count) * 20 * Math.PI, r = 0.01 + 0.001 * t + offset
      return [r * Math.cos(t), r * Math.sin(t)]
    })
    const out = Math.ceil((n - 1) / 2)
    return closed([...arm(out, 0), ...arm(n - 1 - out, 0.003).reverse()])
  }
  /** the request that took the service down, 8,000 vertices: a zig-zag whose last edge cuts through it */
  function zigzag(n: number, crossAtEnd: boolean): P[] {
    const ps: P[] = Array.from({ length: n - 2 }, (_, i) => [i % 2, i * 0.001])
    ps.push([-0.5, (n - 2) * 0.001], crossAtEnd ? [2, -0.1] : [-0.5, -0.001])
    return closed(ps)
  }
  /** long, nearly parallel slanted edges whose bounding boxes all overlap: worst case for a box index */
  function accordion(n: number): P[] {
    const ps: P[] = []
    for (let k = 0; ps.length < n - 3; k++) ps.push([0, k * 1e-4], [1, 1 + k * 1e-4])
    const top = ps[ps.length - 1]![1]
    ps.push([2, top], [2, -1], [0, -1])
    return closed(ps)
  }

  it('accepts a 5,000-position spiral', () => {
    const ring = spiral(5000)
    expect(ring).toHaveLength(5000)
    expect(findRingCrossing([ring])).toBeUndefined()
  })

  it('accepts a 5,000-position zig-zag and a 5,000-position accordion', () => {
    expect(findRingCrossing([zigzag(5000, false)])).toBeUndefined()
    expect(findRingCrossing([accordion(5000)])).toBeUndefined()
  })

  it('finds the crossing of the last edge of a 5,000-position zig-zag, and of the 8,000 one', () => {
    for (const n of [5000, 8000]) {
      const found = findRingCrossing([zigzag(n, true)])
      expect(found).toBeDefined()
      expect(found!.b.edge).toBeGreaterThanOrEqual(n - 3) // one of the closing edges
    }
  })
})

/** A star-shaped ring (simple) around (cx, cy); sometimes two vertices swapped (often crossing). */
function star(r: Rng, n: number, cx: number, cy: number, radius: number, grid: boolean): P[] {
  const angles = Array.from({ length: n }, () => r.range(0, 2 * Math.PI)).sort((a, b) => a - b)
  let ps = angles.map((a): P => {
    const d = radius * r.range(0.2, 1)
    return [cx + d * Math.cos(a), cy + d * Math.sin(a)]
  })
  if (grid) ps = ps.map(([x, y]): P => [Math.round(x), Math.round(y)])
  if (r.next() < 0.3) {
    const i = r.int(0, n - 1), j = r.int(0, n - 1)
    ;[ps[i], ps[j]] = [ps[j]!, ps[i]!]
  }
  return closed(ps)
}

function randomPolygon(r: Rng, grid: boolean): P[][] {
  const size = grid ? 6 : 1
  const rings = [star(r, r.int(3, 14), 0, 0, size, grid)]
  for (let h = r.int(0, 2); h > 0; h--) rings.push(star(r, r.int(3, 6), r.range(-0.5, 0.5) * size, r.range(-0.5, 0.5) * size, 0.4 * size, grid))
  return rings.every((ring) => new Set(ring.map((p) => `${p[0]},${p[1]}`)).size >= 3) ? rings : randomPolygon(r, grid)
}

describe('findRingCrossing: random polygons', () => {
  it('gives kinks()\'s verdict on 400 random polygons with holes (float coordinates)', () => {
    const r = rng(20_240_611)
    const verdicts = { simple: 0, crossing: 0 }
    for (let i = 0; i < 400; i++) {
      const rings = randomPolygon(r, false)
      const found = findRingCrossing(rings) !== undefined
      expect(found, JSON.stringify(rings)).toBe(kinked(rings))
      verdicts[found ? 'crossing' : 'simple']++
    }
    expect(Math.min(verdicts.simple, verdicts.crossing)).toBeGreaterThan(50) // both verdicts well represented
  })

  it('on a small integer grid (shared positions, collinear edges, vertical edges): the all-pairs verdict, a superset of kinks()\'s', () => {
    const r = rng(7)
    let beyondKinks = 0
    for (let i = 0; i < 400; i++) {
      const rings = randomPolygon(r, true)
      const found = findRingCrossing(rings) !== undefined
      expect(found, JSON.stringify(rings)).toBe(allPairs(rings))
      if (kinked(rings)) expect(found, JSON.stringify(rings)).toBe(true)
      else if (found) beyondKinks++ // a collinear meeting kinks() cannot see
    }
    expect(beyondKinks).toBeLessThan(40)
  })

  it('names two edges that are not adjacent and meet at the point given', () => {
    const r = rng(99)
    for (let i = 0; i < 300; i++) {
      const rings = randomPolygon(r, true)
      const found = findRingCrossing(rings)
      if (!found) continue
      const { a, b, at } = found
      const [a1, a2] = [rings[a.ring]![a.edge]!, rings[a.ring]![a.edge + 1]!]
      const [b1, b2] = [rings[b.ring]![b.edge]!, rings[b.ring]![b.edge + 1]!]
      const d = Math.abs(a.edge - b.edge), m = rings[a.ring]!.length - 1
      expect(a.ring === b.ring && (d <= 1 || d === m - 1), JSON.stringify(rings)).toBe(false)
      // the point is on both edges (up to rounding of a computed crossing point)
      for (const [p, q] of [[a1, a2], [b1, b2]] as const) {
        const cross = (q[0] - p[0]) * (at[1] - p[1]) - (q[1] - p[1]) * (at[0] - p[0])
        expect(Math.abs(cross), JSON.stringify({ rings, found })).toBeLessThan(1e-9)
      }
    }
  })
})

describe('insideRing', () => {
  const ring = closed([[0, 0], [4, 0], [4, 4], [2, 1], [0, 4]]) // concave: a notch from the top

  it.each([
    [[1, 1], true], [[3, 0.5], true], [[2, 2], false], [[5, 1], false], [[-1, 0], false], [[2, 0.5], true],
  ] as const)('%j → %s', (p, inside) => {
    expect(insideRing(p[0], p[1], ring)).toBe(inside)
  })
})
