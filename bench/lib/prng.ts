// Seeded PRNG so every bench run (and every comparison inside one) sees the same inputs.

/** mulberry32: tiny, fast, good enough for test data (not for anything secret). Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Rng {
  next(): number
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
