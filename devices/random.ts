// Seeded pseudo-random numbers. Every vehicle gets its own generators derived from (seed, index), so
// a run with the same seed drives the same trucks the same way whatever the scheduling order was.

/** A function returning uniform numbers in [0, 1). */
export type Rng = () => number

/** mulberry32: tiny state (one int), good enough for simulation, fast. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for stream `stream` of item `index`, mixed so neighbours do not correlate. */
export function deriveSeed(seed: number, index: number, stream = 0): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) >>> 0
}

export const uniform = (rng: Rng, min: number, max: number) => min + (max - min) * rng()

export const chance = (rng: Rng, p: number) => p > 0 && rng() < p

export const pick = <T>(rng: Rng, items: readonly T[]): T => {
  const item = items[Math.floor(rng() * items.length)]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}

/** Standard normal via Box–Muller (one value per call; the twin is dropped to keep no state). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng()
  const v = rng()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
