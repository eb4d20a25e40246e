// Seeded PRNG so every bench run (and every comparison inside one) sees the same inputs: the
// simulator's mulberry32 behind a small object API.
import { mulberry32 } from '../../devices/random.js'

export interface Rng {
  /** a plain closure (no `this`): may be passed on as `r.next` */
  next(this: void): number
  range(min: number, max: number): number
  int(min: number, maxInclusive: number): number
  /** log-uniform in [min, max): sizes spread evenly over orders of magnitude */
  logRange(min: number, max: number): number
  pick<T>(items: readonly T[]): T
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed)
  return {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    logRange: (min, max) => min * Math.exp(Math.log(max / min) * next()),
    pick: (items) => {
      const item = items[Math.floor(items.length * next())]
      if (item === undefined) throw new Error('pick from an empty list')
      return item
    },
  }
}
