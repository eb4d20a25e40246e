// Throughput measurement: run a per-item function over a fixed input set, repeatedly, and report the
// median rate of several runs so one GC pause or a noisy neighbour does not decide the result.
import { performance } from 'node:perf_hooks'
import { median } from './stats.js'

export interface RateOptions {
  /** independent runs whose median is reported (default 3) */
  runs?: number
  /** each run loops over the inputs until at least this long has passed (default 500 ms) */
  minMs?: number
  /** untimed passes first, so the JIT has compiled the hot path (default 1) */
  warmupPasses?: number
}

export interface Rate { median: number, runs: number[] }

/** Items per second of `fn` over `items`. */
export function measureRate<T>(items: readonly T[], fn: (item: T) => void, options: RateOptions = {}): Rate {
  const { runs = 3, minMs = 500, warmupPasses = 1 } = options
  for (let w = 0; w < warmupPasses; w++) for (const item of items) fn(item)
  const rates: number[] = []
  for (let r = 0; r < runs; r++) {
    let done = 0
    const start = performance.now()
    let elapsed = 0
    do {
      for (const item of items) fn(item)
      done += items.length
      elapsed = performance.now() - start
    } while (elapsed < minMs)
    rates.push((done / elapsed) * 1000)
  }
  return { median: median(rates), runs: rates }
}

/** Milliseconds one call of `fn` takes. */
export function timeMs(fn: () => void): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}
