// One timer for the whole fleet: every tick the fleet walks its vehicles once. Thousands of devices
// therefore cost one timer, not one setInterval each.

export class Ticker {
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly intervalMs: number, private readonly onTick: () => void) {}

  start() {
    if (this.timer) return
    this.timer = setInterval(() => this.onTick(), this.intervalMs)
  }

  stop() {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
