// Keeps the latest accepted fix per device per tenant and hands them over at most once per
// interval. A live map needs where things are, not every fix: at 15k fixes/s this turns the bus
// traffic into one message per tenant per second whose size is bounded by the tenant's fleet.
import type { Fix } from '../contracts/payloads.js'

export type FlushPositions = (tenantId: string, fixes: Fix[]) => void

export class PositionCoalescer {
  /** tenant → device → latest fix */
  private pending = new Map<string, Map<string, Fix>>()
  private timer: NodeJS.Timeout | null = null
  private lastFlush = 0
  private stopped = false

  constructor(private readonly everyMs: number, private readonly flush: FlushPositions) {}

  add(fixes: Fix[]): void {
    if (this.stopped) return
    for (const fix of fixes) {
      let devices = this.pending.get(fix.tenantId)
      if (!devices) this.pending.set(fix.tenantId, devices = new Map<string, Fix>())
      const held = devices.get(fix.deviceId)
      // the pipeline never accepts an older fix after a newer one, but groups may interleave here
      if (!held || held.ts <= fix.ts) devices.set(fix.deviceId, fix)
    }
    this.schedule()
  }

  /** Hands over whatever is pending now (and on stop, so the last positions are not lost). */
  flushNow(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.lastFlush = Date.now()
    const batch = this.pending
    this.pending = new Map()
    for (const [tenantId, devices] of batch) this.flush(tenantId, [...devices.values()])
  }

  stop(): void {
    this.flushNow()
    this.stopped = true
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0) return
    // one timer for all tenants: every flush is at least `everyMs` after the previous one
    const wait = Math.max(0, this.lastFlush + this.everyMs - Date.now())
    this.timer = setTimeout(() => this.flushNow(), wait)
    this.timer.unref()
  }
}
