// Where the asset is along its shipment's planned route: computed once per fix for the ETA and the
// off-route detector (ctx.scratch.route), with the last position as the hint so a route that passes
// the same place twice does not make the asset jump a loop back.
import { feature } from '../context.js'
import type { FixProcessor } from '../fix-processor.js'
import type { RouteMatch } from '../../geo/route.js'

export interface RouteProgress { shipmentId: string | null, alongM: number | null, ts: number | null }

export const routeMatchOf = (scratch: Record<string, unknown>) => scratch['route'] as RouteMatch | undefined

export function routeProcessor(): FixProcessor {
  return {
    name: 'route',
    process({ fix, next, asset, scratch }) {
      const route = asset.shipment?.route
      const state = feature<RouteProgress>(next.features, 'route', () => ({ shipmentId: null, alongM: null, ts: null }))
      if (!route || !asset.shipment) return
      if (state.shipmentId !== asset.shipment.id) Object.assign(state, { shipmentId: asset.shipment.id, alongM: null, ts: null })
      // look ahead as far as a truck could have driven since the last fix (at least 5 km)
      const elapsedS = state.ts !== null ? (fix.ts - state.ts) / 1000 : 0
      const match = route.locate([fix.lon, fix.lat], state.alongM ?? undefined, { forwardM: Math.max(5000, elapsedS * 40) })
      state.alongM = match.alongM
      state.ts = fix.ts
      scratch['route'] = match
    },
  }
}
