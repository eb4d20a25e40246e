// Which fences contain a point (or are within a margin of it). Flatbush over each fence's bounding
// box finds candidates; only those get the exact signed-distance test. The index is immutable: when
// fences change, build a new one (10k fences take well under a second) and swap the reference.
import Flatbush from 'flatbush'
import { reachDeg, splitLon } from './box.js'
import { wrapLon } from './distance.js'
import { GeoError } from './errors.js'
import { prepareShape } from './shapes.js'
import type { Position, PreparedShape, Shape } from './types.js'

export interface FenceEntry { readonly id: string, readonly shape: Shape }
export interface FenceHit { readonly id: string, readonly signedDistanceM: number }

export class GeofenceIndex {
  readonly size: number
  private readonly ids: string[] = []
  private readonly fences: PreparedShape[] = []
  /** fence number of each box in the tree: a fence crossing the antimeridian has two boxes */
  private readonly boxFence: Uint32Array
  private readonly tree: Flatbush | undefined
  /** per fence, the query that last tested it: dedupes split boxes without allocating a Set */
  private readonly seen: Uint32Array
  private stamp = 0

  /** Validates every shape (GeoError with path `fences[i].shape…`); ids must be unique. */
  constructor(entries: readonly FenceEntry[]) {
    const known = new Set<string>()
    for (const [i, { id, shape }] of entries.entries()) {
      if (known.has(id)) throw new GeoError('DUPLICATE_ID', `fence id ${id} appears twice`, `fences[${i}].id`)
      known.add(id)
      this.ids.push(id)
      this.fences.push(prepareShape(shape, `fences[${i}].shape`))
    }
    this.size = this.fences.length
    const boxes = this.fences.flatMap((f, i) => splitLon(f.box).map((b) => ({ b, i })))
    this.boxFence = Uint32Array.from(boxes, (x) => x.i)
    this.seen = new Uint32Array(this.size)
    if (boxes.length === 0) return
    const tree = new Flatbush(boxes.length)
    for (const { b } of boxes) tree.add(b.minLon, b.minLat, b.maxLon, b.maxLat)
    tree.finish()
    this.tree = tree
  }

  /**
   * Every fence whose signed distance to `point` is ≤ `marginM`, nearest-inside first. marginM = 0:
   * fences containing the point; > 0: also fences the point is outside of by at most marginM (GPS
   * accuracy, exit hysteresis); < 0: only fences the point is at least -marginM deep inside.
   */
  query(point: Position, marginM = 0): FenceHit[] {
    const hits: FenceHit[] = []
    const lon = wrapLon(point[0]), lat = point[1]
    const tree = this.tree
    if (!tree || !(lat >= -90 && lat <= 90)) return hits
    const stamp = this.nextStamp()
    // the point's box grown by the margin, inline (no objects): this runs for every fix
    const { dLon, dLat } = reachDeg(lat, marginM)
    const minLat = lat - dLat, maxLat = lat + dLat
    if (dLon >= 180) {
      this.test(tree.search(-180, minLat, 180, maxLat), lon, lat, marginM, stamp, hits)
    } else {
      this.test(tree.search(lon - dLon, minLat, lon + dLon, maxLat), lon, lat, marginM, stamp, hits)
      // the far side of the antimeridian, when the box pokes past it
      if (lon - dLon < -180) this.test(tree.search(lon - dLon + 360, minLat, 180, maxLat), lon, lat, marginM, stamp, hits)
      if (lon + dLon > 180) this.test(tree.search(-180, minLat, lon + dLon - 360, maxLat), lon, lat, marginM, stamp, hits)
    }
    if (hits.length > 1) hits.sort((a, b) => a.signedDistanceM - b.signedDistanceM || (a.id < b.id ? -1 : 1))
    return hits
  }

  /** Exact test of candidate boxes; a fence seen already in this query (its other box) is skipped. */
  private test(boxes: number[], lon: number, lat: number, marginM: number, stamp: number, hits: FenceHit[]): void {
    for (let k = 0; k < boxes.length; k++) {
      const f = this.boxFence[boxes[k]!]!
      if (this.seen[f] === stamp) continue
      this.seen[f] = stamp
      const d = this.fences[f]!.signedDistanceM(lon, lat)
      if (d <= marginM) hits.push({ id: this.ids[f]!, signedDistanceM: d })
    }
  }

  private nextStamp(): number {
    if (this.stamp === 0xffffffff) {
      this.seen.fill(0)
      this.stamp = 0
    }
    return ++this.stamp
  }
}
