// Ring simplicity for polygon fences: do any two edges of the rings meet where they should not, and
// is a point inside a ring. Edges are straight in lon/lat (RFC 7946); every predicate is exact
// (orientation.ts), so a vertex lying on another edge is found whatever its coordinates.
//
// turf's kinks() compares every edge with every other one and collects every crossing: O(n²) time and,
// on a zig-zag, O(n²) memory (8,000 vertices ran out of heap). Here a sweep line (Shamos & Hoey 1976)
// stops at the first meeting: O(n log n) orientation tests whatever the shape. The edges under the
// sweep are a sorted array (an insert or removal is a memmove: microseconds at the API's 5,000-position cap).
import { orientation, segmentsMeet } from './orientation.js'
import type { Position } from './types.js'
import { checkRing } from './validate.js'

/** An edge: edge k of a ring joins its positions k and k + 1. */
export interface RingEdge { readonly ring: number, readonly edge: number }
export interface RingCrossing { readonly a: RingEdge, readonly b: RingEdge, readonly at: [number, number] }

/**
 * The first pair of edges found to share a point, or undefined when the rings are simple and do
 * not meet. Two edges that follow each other in a ring (the last and the first included) share
 * their common vertex and are not compared, as in turf's kinks(); every other pair must not meet at
 * all: a crossing, a vertex on another edge, a vertex used twice, and a collinear overlap are all
 * reported (kinks() misses the last: it skips parallel edges). Rings must be closed and have 3
 * distinct positions (GeoError otherwise); altitudes are ignored.
 */
export function findRingCrossing(rings: readonly (readonly Position[])[]): RingCrossing | undefined {
  for (const [i, ring] of rings.entries()) checkRing(ring, `rings[${i}]`)
  const v = new RingVertices(rings)
  const order = Array.from({ length: v.count }, (_, g) => g).sort((g, h) => v.compare(g, h))
  return repeatedVertex(v, order) ?? spike(v) ?? sweep(v, order)
}

/**
 * Whether (x, y) is inside `ring` by the even-odd rule, exactly. A point on the ring may come out
 * either way: callers settle the boundary first (a hole vertex on the outer ring is a meeting that
 * findRingCrossing reports). O(ring length).
 */
export function insideRing(x: number, y: number, ring: readonly Position[]): boolean {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [ax, ay] = ring[j]!, [bx, by] = ring[i]!
    if ((ay > y) === (by > y)) continue
    // the edge spans the point's latitude: is the point west of where it crosses it?
    const side = orientation(ax, ay, bx, by, x, y)
    if (by > ay ? side > 0 : side < 0) inside = !inside
  }
  return inside
}

/**
 * Every ring's vertices, flat, the closing position left out: vertex g is position k of ring r, and
 * edge g (same number) runs from vertex g to the ring's next vertex.
 */
class RingVertices {
  readonly count: number
  readonly xs: Float64Array
  readonly ys: Float64Array
  readonly ringOf: Uint32Array
  /** first vertex of each ring, and its number of vertices (= edges) */
  readonly first: Uint32Array
  readonly size: Uint32Array

  constructor(rings: readonly (readonly Position[])[]) {
    this.count = rings.reduce((n, r) => n + r.length - 1, 0)
    this.xs = new Float64Array(this.count)
    this.ys = new Float64Array(this.count)
    this.ringOf = new Uint32Array(this.count)
    this.first = new Uint32Array(rings.length)
    this.size = new Uint32Array(rings.length)
    let g = 0
    for (const [r, ring] of rings.entries()) {
      this.first[r] = g
      this.size[r] = ring.length - 1
      for (let k = 0; k + 1 < ring.length; k++, g++) {
        this.xs[g] = ring[k]![0]
        this.ys[g] = ring[k]![1]
        this.ringOf[g] = r
      }
    }
  }

  /** the vertex `step` places along g's ring (negative: backwards) */
  along(g: number, step: number): number {
    const r = this.ringOf[g]!, first = this.first[r]!, size = this.size[r]!
    return first + (((g - first + step) % size) + size) % size
  }

  /** west to east, then south to north: the sweep's order */
  compare(g: number, h: number): number {
    return this.xs[g]! - this.xs[h]! || this.ys[g]! - this.ys[h]!
  }

  /** edges that follow each other in a ring, which share a vertex by construction */
  adjacent(e: number, f: number): boolean {
    const r = this.ringOf[e]!
    if (this.ringOf[f] !== r) return false
    const d = Math.abs(e - f)
    return d === 1 || d === this.size[r]! - 1
  }

  edge(e: number): RingEdge {
    const ring = this.ringOf[e]!
    return { ring, edge: e - this.first[ring]! }
  }

  meeting(e: number, f: number, at: [number, number]): RingCrossing {
    return { a: this.edge(Math.min(e, f)), b: this.edge(Math.max(e, f)), at }
  }

  point(g: number): [number, number] {
    return [this.xs[g]!, this.ys[g]!]
  }
}

/**
 * A position used by two vertices: their edges touch there. With ≥ 4 edges in a ring (3 distinct
 * positions make a ring of 3 edges have no repeat), two of the edges ending there are never adjacent.
 */
function repeatedVertex(v: RingVertices, order: readonly number[]): RingCrossing | undefined {
  for (let i = 1; i < order.length; i++) {
    const g = order[i - 1]!, h = order[i]!
    if (v.compare(g, h) !== 0) continue
    for (const e of [v.along(g, -1), g]) {
      for (const f of [v.along(h, -1), h]) if (e !== f && !v.adjacent(e, f)) return v.meeting(e, f, v.point(g))
    }
  }
  return undefined
}

/**
 * A ring turning back on itself along the same line (p → q → r with q beyond both): the edge after r
 * starts on p–q, or p lies on q–r. Adjacent edges are not compared, but with ≥ 4 edges in the ring
 * that always makes two non-adjacent ones meet. (A ring of 3 collinear positions is left to the sweep.)
 */
function spike(v: RingVertices): RingCrossing | undefined {
  for (let q = 0; q < v.count; q++) {
    if (v.size[v.ringOf[q]!]! < 4) continue
    const p = v.along(q, -1), r = v.along(q, 1)
    if (orientation(v.xs[p]!, v.ys[p]!, v.xs[q]!, v.ys[q]!, v.xs[r]!, v.ys[r]!) !== 0) continue
    if (Math.sign(v.compare(q, p)) !== Math.sign(v.compare(q, r))) continue // q between p and r: a straight vertex
    // r (≠ p: no vertex repeats by now) lies on p–q, or p lies on q–r
    return Math.sign(v.compare(r, p)) === Math.sign(v.compare(q, p))
      ? v.meeting(p, r, v.point(r)) // edges p→q and r→…
      : v.meeting(v.along(q, -2), q, v.point(p)) // edges …→p and q→r
  }
  return undefined
}

/**
 * Shamos–Hoey: vertices west to east; `status` holds the edges the sweep line crosses, south to north.
 * Every edge is compared with its neighbours when it gets them, and each vertex is located among the
 * edges crossing the line there, which finds a vertex lying on an edge. By here no vertex repeats and
 * no two adjacent edges overlap, so the order is strict and the first meeting is found.
 */
function sweep(v: RingVertices, order: readonly number[]): RingCrossing | undefined {
  const { xs, ys } = v
  // each edge's west (lo) and east (hi) end; of a ring of 3 collinear vertices only the edge joining
  // its two ends is kept: the others lie on it, and they and it are all adjacent to each other
  const lo = new Uint32Array(v.count), hi = new Uint32Array(v.count)
  const kept = new Uint8Array(v.count)
  for (let e = 0; e < v.count; e++) {
    const n = v.along(e, 1)
    const [a, b] = v.compare(e, n) < 0 ? [e, n] : [n, e]
    lo[e] = a
    hi[e] = b
    const third = v.along(e, 2)
    const flat = v.size[v.ringOf[e]!] === 3 && orientation(xs[e]!, ys[e]!, xs[n]!, ys[n]!, xs[third]!, ys[third]!) === 0
    kept[e] = !flat || (v.compare(a, third) < 0 && v.compare(third, b) < 0) ? 1 : 0
  }
  /** > 0: the vertex is north (left) of the edge, 0 on its line, < 0 south */
  const side = (e: number, g: number) => orientation(xs[lo[e]!]!, ys[lo[e]!]!, xs[hi[e]!]!, ys[hi[e]!]!, xs[g]!, ys[g]!)
  const check = (e: number | undefined, f: number | undefined): RingCrossing | undefined => {
    if (e === undefined || f === undefined || v.adjacent(e, f)) return undefined
    const at = segmentsMeet(xs[lo[e]!]!, ys[lo[e]!]!, xs[hi[e]!]!, ys[hi[e]!]!, xs[lo[f]!]!, ys[lo[f]!]!, xs[hi[f]!]!, ys[hi[f]!]!)
    return at ? v.meeting(e, f, at) : undefined
  }

  const status: number[] = []
  for (const g of order) {
    const incident = [v.along(g, -1), g].filter((e) => kept[e] === 1)
    if (incident.length === 0) continue
    // the edges south of the vertex come first in the status
    let at = 0
    for (let end = status.length; at < end;) {
      const mid = (at + end) >>> 1
      if (side(status[mid]!, g) > 0) at = mid + 1
      else end = mid
    }
    // then those through it: its own edges ending here, or an edge it lies on
    let next = at
    for (; next < status.length && side(status[next]!, g) === 0; next++) {
      const t = status[next]!
      if (hi[t] === g) continue
      const own = incident.find((e) => !v.adjacent(e, t)) ?? incident[0]!
      return v.meeting(t, own, v.point(g))
    }
    const ending = incident.filter((e) => hi[e] === g).length
    if (next - at !== ending) throw new Error('self-intersection sweep: an edge ending here is not where the order puts it') // unreachable
    status.splice(at, next - at)
    const starting = incident.filter((e) => lo[e] === g)
    // two edges leaving the vertex eastwards: the southern one first
    if (starting.length === 2 && orientation(xs[g]!, ys[g]!, xs[hi[starting[0]!]!]!, ys[hi[starting[0]!]!]!, xs[hi[starting[1]!]!]!, ys[hi[starting[1]!]!]!) < 0) starting.reverse()
    status.splice(at, 0, ...starting)
    const found = starting.length === 0
      ? check(status[at - 1], status[at])
      : check(status[at - 1], starting[0]) ?? check(starting[starting.length - 1], status[at + starting.length])
    if (found) return found
  }
  return undefined
}
