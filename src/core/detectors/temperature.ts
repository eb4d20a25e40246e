// Temperature excursion: the reading `attrs.temp` (°C) outside the shipment's allowed range for
// `forS`; back to normal when inside the range by `hysteresisC` again. Nothing new once the shipment
// is done (every stop reached or skipped, delivered, cancelled): the goods are unloaded.
import type { FixProcessor } from '../fix-processor.js'
import { followShipment, observe, shipmentClosed } from './condition.js'

export interface TemperatureSettings { forS: number, hysteresisC: number }

export function temperatureDetector(s: TemperatureSettings): FixProcessor {
  const spec = { name: 'temperature', raised: 'temperature_excursion', cleared: 'temperature_normal', forS: s.forS, clearForS: 0 }
  return {
    name: 'temperature',
    process(ctx) {
      followShipment(ctx, spec.name)
      const temp = ctx.fix.attrs?.['temp']
      const plan = ctx.asset.shipment
      if (typeof temp !== 'number' || !plan || (plan.tempMinC === null && plan.tempMaxC === null)) return
      const min = plan.tempMinC ?? -Infinity
      const max = plan.tempMaxC ?? Infinity
      // a range narrower than twice the hysteresis could never clear: the margin shrinks with it
      const margin = Math.min(s.hysteresisC, (max - min) / 4)
      observe(ctx, spec, !shipmentClosed(ctx) && (temp < min || temp > max), temp >= min + margin && temp <= max - margin,
        { tempC: temp, minC: plan.tempMinC, maxC: plan.tempMaxC })
    },
  }
}
