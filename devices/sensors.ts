// Sensor values that ride along with fixes: battery (drains linearly with simulated time) and a reefer
// temperature (set point with small oscillation, plus optional excursions the truth file records).
import { uniform, type Rng } from './random.js'

export class Battery {
  constructor(private readonly startPct: number, private readonly drainPerHour: number, private readonly sinceMs: number) {}

  at(tMs: number): number {
    const pct = this.startPct - (this.drainPerHour * Math.max(0, tMs - this.sinceMs)) / 3_600_000
    return Math.round(Math.min(100, Math.max(0, pct)) * 10) / 10
  }
}

export interface Excursion { start: number, end: number, peakC: number }

/** Set point ± 0.3 °C of compressor cycling; an excursion ramps up for a third of its time, holds, and recovers. */
export class ReeferTemperature {
  readonly excursions: Excursion[] = []

  constructor(readonly setPointC: number) {}

  /** Plans an excursion somewhere in [from, to] (sim ms). */
  planExcursion(rng: Rng, from: number, to: number): Excursion {
    const lengthMs = uniform(rng, 20, 60) * 60_000
    const start = uniform(rng, from, Math.max(from, to - lengthMs))
    const excursion = { start, end: start + lengthMs, peakC: this.setPointC + uniform(rng, 6, 12) }
    this.excursions.push(excursion)
    return excursion
  }

  at(tMs: number): number {
    let temp = this.setPointC + 0.3 * Math.sin(tMs / 600_000)
    for (const e of this.excursions) {
      if (tMs < e.start || tMs > e.end) continue
      const f = (tMs - e.start) / (e.end - e.start)
      const shape = f < 1 / 3 ? f * 3 : f < 2 / 3 ? 1 : (1 - f) * 3
      temp += (e.peakC - this.setPointC) * shape
    }
    return Math.round(temp * 10) / 10
  }
}
