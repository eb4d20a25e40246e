// Low battery: below `belowPct` fires once; recovered above `recoverPct` (hysteresis against a
// battery that hovers at the threshold).
import type { FixProcessor } from '../fix-processor.js'
import { observe } from './condition.js'

export interface LowBatterySettings { belowPct: number, recoverPct: number }

export function lowBatteryDetector(s: LowBatterySettings): FixProcessor {
  const spec = { name: 'lowBattery', raised: 'low_battery', cleared: 'battery_recovered', forS: 0 }
  return {
    name: 'low_battery',
    process(ctx) {
      const battery = ctx.fix.battery
      if (battery === undefined) return
      observe(ctx, spec, battery < s.belowPct, battery > s.recoverPct, { battery, thresholdPct: s.belowPct })
    },
  }
}
