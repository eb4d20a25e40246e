// Percentiles from a Prometheus histogram scraped twice (the difference is what happened in between).
export type Buckets = Map<number, number>

export function scrapeHistogram(text: string, name: string): Buckets {
  const buckets: Buckets = new Map()
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+(?:\\.\\d+)?)`, 'gm')
  for (const m of text.matchAll(re)) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), (buckets.get(m[1] === '+Inf' ? Infinity : Number(m[1])) ?? 0) + Number(m[2]))
  return buckets
}

/** The upper bound of the bucket holding the p-th observation (an upper estimate, as Prometheus' own). */
export function percentileOf(before: Buckets, after: Buckets, p: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0)
  if (total <= 0) return NaN
  for (const le of bounds) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= p * total) return le
  return Infinity
}
