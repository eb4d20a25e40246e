// A token bucket: `rate` tokens per second, holding at most `burst`. One bucket limits the publishes of
// the whole fleet, another the new connections, so 5,000 devices share one budget instead of each
// pacing itself with a timer.

export type MonotonicClock = () => number

export class TokenBucket {
  private tokens: number
  private last: number
  readonly unlimited: boolean

  constructor(readonly ratePerS: number, readonly burst = Math.max(1, ratePerS), private readonly now: MonotonicClock = () => performance.now()) {
    this.unlimited = !(ratePerS > 0) || !Number.isFinite(ratePerS)
    this.tokens = burst
    this.last = now()
  }

  /** Takes n tokens if there are that many; never blocks. */
  tryTake(n = 1): boolean {
    if (this.unlimited) return true
    this.refill()
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  available(): number {
    if (this.unlimited) return Number.POSITIVE_INFINITY
    this.refill()
    return this.tokens
  }

  private refill() {
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerS)
    this.last = t
  }
}
