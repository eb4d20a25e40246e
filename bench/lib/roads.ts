// Roads for simulated trips: a polyline from A to B whose length is a chosen multiple of the
// great-circle distance (the circuity: ~1.2–1.4 for road freight). The shape is midpoint
// displacement across the chord (big bends, then smaller ones, like a road following terrain),
// a function of the position along the chord so it never doubles back; a single scale factor is
// then found by bisection so the length hits the circuity asked for.
import { fromLocal, haversineM, localFrame, toLocal } from '../../src/geo/distance.js'
import type { Position } from '../../src/geo/types.js'
import type { Rng } from './prng.js'

/** 2^DEPTH segments per road: ~0.4–1 km each for 25–150 km legs */
const DEPTH = 8
/** how much each level's bends shrink relative to the level above */
const ROUGHNESS = 0.55

export function polylineLengthM(line: readonly Position[]): number {
  let m = 0
  for (let i = 1; i < line.length; i++) m += haversineM(line[i - 1]!, line[i]!)
  return m
}

export function road(r: Rng, from: Position, to: Position, circuity: number): [number, number][] {
  const frame = localFrame(from)
  const [bx, by] = toLocal(frame, to)
  const chord = Math.hypot(bx, by)
  const n = 2 ** DEPTH
  // lateral offset (in chord lengths) at t = i/n, end points on the chord
  const lateral = new Float64Array(n + 1)
  for (let step = n, amp = 0.5; step > 1; step /= 2, amp *= ROUGHNESS) {
    for (let lo = 0; lo < n; lo += step) {
      const mid = lo + step / 2
      lateral[mid] = (lateral[lo]! + lateral[lo + step]!) / 2 + r.range(-amp, amp)
    }
  }
  const [ux, uy] = [bx / chord, by / chord]
  const at = (scale: number): [number, number][] => Array.from(lateral, (off, i) => {
    const t = i / n, d = off * chord * scale
    return fromLocal(frame, bx * t - uy * d, by * t + ux * d)
  })
  const gc = haversineM(from, to)
  let lo = 0, hi = 1
  while (polylineLengthM(at(hi)) / gc < circuity && hi < 64) hi *= 2
  for (let k = 0; k < 40; k++) {
    const mid = (lo + hi) / 2
    if (polylineLengthM(at(mid)) / gc < circuity) lo = mid
    else hi = mid
  }
  const line = at(hi)
  line[line.length - 1] = [to[0], to[1]] // exactly at the stop, not 1e-9° off
  return line
}
