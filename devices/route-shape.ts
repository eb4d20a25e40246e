// Turns a handful of real waypoints into a road-like polyline: a Catmull-Rom curve through every
// waypoint (so stops placed on waypoints lie exactly on the line), sampled every few hundred metres,
// with a gentle lateral wander that vanishes at the waypoints. Used by the route generator and by
// random routes, so both look alike.
import { haversineM, offsetM, round7, type LonLat } from './geo.js'
import type { Rng } from './random.js'

export interface ShapeOptions {
  /** target distance between vertices, metres */
  spacingM: number
  /** amplitude of the lateral wander, metres (0 for a pure spline) */
  wanderM: number
  rng: Rng
}

const lerp = (a: number, b: number, t: number) => a + (b - a) * t

interface XY { x: number, y: number }

/**
 * Centripetal Catmull-Rom (Barry–Goldman) between p1 and p2 at t in [0, 1]. Unlike the uniform
 * variant it never loops or cusps when waypoints are unevenly spaced, which real junctions are.
 */
function centripetal(p0: XY, p1: XY, p2: XY, p3: XY, t: number): XY {
  const knot = (a: XY, b: XY) => Math.max(Math.sqrt(Math.hypot(b.x - a.x, b.y - a.y)), 1e-9)
  const t1 = knot(p0, p1), t2 = t1 + knot(p1, p2), t3 = t2 + knot(p2, p3)
  const u = lerp(t1, t2, t)
  const mix = (a: XY, b: XY, ta: number, tb: number): XY => {
    const f = (u - ta) / (tb - ta)
    return { x: lerp(a.x, b.x, f), y: lerp(a.y, b.y, f) }
  }
  const a1 = mix(p0, p1, 0, t1), a2 = mix(p1, p2, t1, t2), a3 = mix(p2, p3, t2, t3)
  const b1 = mix(a1, a2, 0, t2), b2 = mix(a2, a3, t1, t3)
  return mix(b1, b2, t1, t2)
}

/** Returns [lon, lat] vertices; the i-th waypoint is always a vertex. */
export function shapeRoad(waypoints: readonly LonLat[], options: ShapeOptions): [number, number][] {
  if (waypoints.length < 2) throw new Error('need at least two waypoints')
  const out: [number, number][] = []
  // a local plane: longitude scaled by cos(latitude) so the curve's geometry is not squashed
  const k = Math.cos((waypoints[0]!.lat * Math.PI) / 180)
  const xy = waypoints.map((w): XY => ({ x: w.lon * k, y: w.lat }))
  const n = xy.length
  // phantom end points continue the first and last legs straight on
  const at = (i: number): XY => i < 0 ? { x: 2 * xy[0]!.x - xy[1]!.x, y: 2 * xy[0]!.y - xy[1]!.y }
    : i >= n ? { x: 2 * xy[n - 1]!.x - xy[n - 2]!.x, y: 2 * xy[n - 1]!.y - xy[n - 2]!.y } : xy[i]!
  for (let i = 0; i < n - 1; i++) {
    const p1 = waypoints[i]!, p2 = waypoints[i + 1]!
    const legM = haversineM(p1.lat, p1.lon, p2.lat, p2.lon)
    // the curve is longer than the chord and not sampled evenly: oversample a little
    const samples = Math.max(1, Math.ceil((legM * 1.4) / options.spacingM))
    // two random sine components per leg: a wander that looks like a road bending around terrain;
    // small on short legs, where a big wander would tie the road in knots
    const amplitude = Math.min(options.wanderM, legM * 0.02)
    const waves = [1, 2].map((k) => ({ amp: amplitude * options.rng() / k, freq: k + Math.floor(options.rng() * 3), phase: options.rng() * Math.PI * 2 }))
    for (let s = 0; s < samples; s++) {
      const t = s / samples
      const c = s === 0 ? { x: p1.lon * k, y: p1.lat } : centripetal(at(i - 1), at(i), at(i + 1), at(i + 2), t)
      let lat = c.y
      let lon = c.x / k
      if (s > 0 && options.wanderM > 0) {
        const taper = Math.sin(Math.PI * t)
        const side = waves.reduce((sum, w) => sum + w.amp * Math.sin(w.freq * Math.PI * t + w.phase), 0) * taper
        // perpendicular to the chord p1→p2: rotate the chord direction by 90°
        const dn = p2.lat - p1.lat
        const de = (p2.lon - p1.lon) * Math.cos(lerp(p1.lat, p2.lat, 0.5) * Math.PI / 180)
        const norm = Math.hypot(dn, de) || 1
        const moved = offsetM(lat, lon, (-de / norm) * side, (dn / norm) * side)
        lat = moved.lat
        lon = moved.lon
      }
      out.push([round7(lon), round7(lat)])
    }
  }
  const last = waypoints[waypoints.length - 1]!
  out.push([round7(last.lon), round7(last.lat)])
  return out
}
