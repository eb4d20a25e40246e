// Off route: further than `limitM` from the shipment's planned route for `forS`; back on route when
// within `limitM × backRatio` (the gap between the two is the hysteresis). Nothing new once the
// shipment is done (every stop reached or skipped, delivered, cancelled): the route has ended.
import type { FixProcessor } from '../fix-processor.js'
import { routeMatchOf } from '../features/route.js'
import { followShipment, observe, shipmentClosed } from './condition.js'

export interface OffRouteSettings { limitM: number, forS: number, backRatio: number }

export function offRouteDetector(s: OffRouteSettings): FixProcessor {
  const spec = { name: 'offRoute', raised: 'off_route', cleared: 'back_on_route', forS: s.forS, clearForS: 0 }
  return {
    name: 'off_route',
    process(ctx) {
      followShipment(ctx, spec.name)
      const match = routeMatchOf(ctx.scratch)
      if (!match) return
      const slack = ctx.fix.accuracy ?? 0
      observe(ctx, spec, !shipmentClosed(ctx) && match.offsetM - slack > s.limitM, match.offsetM + slack < s.limitM * s.backRatio,
        { offsetM: Math.round(match.offsetM), alongM: Math.round(match.alongM), limitM: s.limitM })
    },
  }
}
