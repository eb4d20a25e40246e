// Random but reproducible geofence workloads: mixed circles, polygons (half with a hole) and
// corridors of typical sizes (100 m – 5 km) scattered over a country-sized area, plus fixes of which
// a share lands near a fence so the exact tests are exercised, not just empty index lookups.
import { M_PER_DEG, wrapLon } from '../../src/geo/distance.js'
import type { FenceEntry } from '../../src/geo/fence-index.js'
import type { Position, Shape } from '../../src/geo/types.js'
import type { Rng } from './prng.js'

/** maxLon may exceed 180 for an area across the antimeridian; generated longitudes are wrapped. */
export interface Area { minLon: number, minLat: number, maxLon: number, maxLat: number }
/** roughly mainland France: ~1,000 km by ~950 km */
export const COUNTRY: Area = { minLon: -4.5, minLat: 42.5, maxLon: 8, maxLat: 51 }

export interface GeneratedFence extends FenceEntry { readonly center: Position, readonly sizeM: number }

/** `center` moved by metres east/north (flat-earth, fine at fence scale); longitude wrapped. */
export function offsetM(center: Position, eastM: number, northM: number): [number, number] {
  const lat = Math.max(-90, Math.min(90, center[1] + northM / M_PER_DEG))
  return [wrapLon(center[0] + eastM / (M_PER_DEG * Math.cos((center[1] * Math.PI) / 180))), lat]
}

const randomIn = (r: Rng, a: Area): [number, number] => [wrapLon(r.range(a.minLon, a.maxLon)), r.range(a.minLat, a.maxLat)]

/** Closed star-shaped ring (so never self-crossing): radii between minFrac and maxFrac of sizeM. */
function starRing(r: Rng, center: Position, sizeM: number, vertices: number, minFrac: number, maxFrac: number): [number, number][] {
  const angles = Array.from({ length: vertices }, () => r.range(0, 2 * Math.PI)).sort((a, b) => a - b)
  const ring = angles.map((a) => {
    const d = sizeM * r.range(minFrac, maxFrac)
    return offsetM(center, d * Math.cos(a), d * Math.sin(a))
  })
  return [...ring, ring[0]!]
}

function shapeAt(r: Rng, center: Position, sizeM: number): Shape {
  const roll = r.next()
  if (roll < 0.4) return { kind: 'circle', center, radiusM: sizeM }
  if (roll < 0.8) {
    const outer = starRing(r, center, sizeM, r.int(5, 24), 0.6, 1)
    // the hole stays within 0.3 of the size, the outer ring beyond 0.6: the hole is always inside
    return { kind: 'polygon', rings: r.next() < 0.5 ? [outer, starRing(r, center, sizeM, r.int(4, 10), 0.1, 0.3)] : [outer] }
  }
  const n = r.int(2, 8), step = sizeM / (n - 1)
  let heading = r.range(0, 2 * Math.PI)
  const line: [number, number][] = [[center[0], center[1]]]
  for (let i = 1; i < n; i++) {
    heading += r.range(-Math.PI / 4, Math.PI / 4)
    line.push(offsetM(line[i - 1]!, step * Math.cos(heading), step * Math.sin(heading)))
  }
  return { kind: 'corridor', line, widthM: r.logRange(50, 400) }
}

export function mixedFences(r: Rng, count: number, area: Area = COUNTRY): GeneratedFence[] {
  return Array.from({ length: count }, (_, i) => {
    const center = randomIn(r, area)
    const sizeM = r.logRange(100, 5000)
    return { id: `f${i}`, shape: shapeAt(r, center, sizeM), center, sizeM }
  })
}

/** `count` fixes: `nearShare` of them within 1.5 sizes of a random fence, the rest anywhere in the area. */
export function fixesFor(r: Rng, fences: readonly GeneratedFence[], count: number, nearShare = 0.5, area: Area = COUNTRY): [number, number][] {
  return Array.from({ length: count }, () => {
    if (r.next() >= nearShare || fences.length === 0) return randomIn(r, area)
    const f = r.pick(fences)
    const d = r.range(0, 1.5 * f.sizeM), a = r.range(0, 2 * Math.PI)
    return offsetM(f.center, d * Math.cos(a), d * Math.sin(a))
  })
}
