// Paces connection attempts: at most `connect-rate` per second (token bucket) and at most
// `connect-concurrency` waiting for their CONNACK. Refused or failed attempts come back after an
// exponential backoff, so an overloaded broker sees the fleet slow down instead of a retry storm.
import type { Rng } from '../random.js'
import type { TokenBucket } from '../token-bucket.js'

/** 1 s, 2 s, 4 s … capped at 60 s, with "equal jitter" so retries do not line up. */
export function backoffMs(attempt: number, rng: Rng, baseMs = 1000, capMs = 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt))
  return ceiling / 2 + (ceiling / 2) * rng()
}

export class ConnectGate<T> {
  private ready: T[] = []
  private head = 0
  private delayed: { item: T, at: number }[] = []
  private inFlight = 0

  constructor(
    private readonly bucket: TokenBucket,
    private readonly maxInFlight: number,
    private readonly now: () => number = Date.now,
  ) {}

  get waiting() { return this.ready.length - this.head + this.delayed.length }
  get connecting() { return this.inFlight }

  enqueue(item: T, delayMs = 0) {
    if (delayMs > 0) this.delayed.push({ item, at: this.now() + delayMs })
    else this.ready.push(item)
  }

  /** Starts as many waiting attempts as the limits allow; `start` must call `settle` exactly once later. */
  pump(start: (item: T) => void) {
    if (this.delayed.length > 0) this.promoteDue()
    while (this.head < this.ready.length && this.inFlight < this.maxInFlight && this.bucket.tryTake()) {
      const item = this.ready[this.head++]!
      this.inFlight++
      start(item)
    }
    // compact now and then so the array does not grow forever
    if (this.head > 1024 && this.head * 2 > this.ready.length) { this.ready = this.ready.slice(this.head); this.head = 0 }
  }

  settle() { this.inFlight = Math.max(0, this.inFlight - 1) }

  private promoteDue() {
    const now = this.now()
    const still: { item: T, at: number }[] = []
    for (const d of this.delayed) {
      if (d.at <= now) this.ready.push(d.item)
      else still.push(d)
    }
    this.delayed = still
  }
}
