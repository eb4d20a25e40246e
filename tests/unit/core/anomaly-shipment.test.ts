// Conditions about a shipment (off its route, outside its temperature range) belong to that
// shipment: when it ends or another one starts, they are forgotten instead of staying raised.
import { describe, expect, it } from 'vitest'
import { stopsOnRoute } from '../../../src/core/context.js'
import { RouteLine } from '../../../src/geo/route.js'
import { Track, offset } from '../../helpers/tracks.js'
import { plan, rig, stop, type LonLat } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const depot: LonLat = [2.35, 48.85]
const routed = (id: string, from: LonLat, bearing: number) => {
  const end = offset(from, bearing, 50_000)
  const route = new RouteLine([from, end])
  const stops = [stop(`${id}-end`, 0, 'delivery', end)]
  return plan(id, stops, { route, ...stopsOnRoute(route, stops) })
}

describe('shipment conditions across shipments', () => {
  it('off route on one shipment does not stay raised after it, and the next shipment reports its own', async () => {
    const r = rig(routed('s1', depot, 90), { OFF_ROUTE_M: 1000, OFF_ROUTE_S: 120 })
    const t = new Track(depot, T0).driveTo(offset(depot, 90, 5000), 20).driveTo(offset(offset(depot, 90, 5000), 0, 5000), 20).dwell(600)
    await r.feed(t.fixes)
    expect(r.seq(['off_route', 'back_on_route'])).toEqual(['off_route'])
    // the shipment ends (delivered by proof of delivery, say) while the truck is off its route
    r.context.shipment = null
    await r.feed(new Track(t.position, t.now).dwell(300).fixes)
    // the next shipment's route is 20 km south: the truck starts off it, then joins it
    const next = routed('s2', offset(depot, 180, 20_000), 90)
    r.context.shipment = next
    const t2 = new Track(t.position, t.now + 400_000).dwell(600).driveTo(offset(depot, 180, 20_000), 20).driveTo(offset(offset(depot, 180, 20_000), 90, 5000), 20)
    await r.feed(t2.fixes)
    const offRoute = r.events.filter((e) => e.type === 'off_route' || e.type === 'back_on_route').map((e) => `${e.type}:${e.shipmentId}`)
    expect(offRoute).toEqual(['off_route:s1', 'off_route:s2', 'back_on_route:s2'])
  })

  it('a temperature excursion on one shipment does not hide the next shipment\'s', async () => {
    const reefer = (id: string) => plan(id, [stop(`${id}-end`, 0, 'delivery', offset(depot, 90, 100_000))], { tempMinC: 2, tempMaxC: 8 })
    const r = rig(reefer('s1'), { TEMP_EXCURSION_S: 300 })
    const t = new Track(depot, T0, 30).dwell(10 * 60, 3, { attrs: { temp: 12 } })
    await r.feed(t.fixes)
    r.context.shipment = reefer('s2')
    await r.feed(new Track(depot, t.now, 30).dwell(10 * 60, 3, { attrs: { temp: 12 } }).fixes)
    expect(r.events.filter((e) => e.type.startsWith('temperature')).map((e) => `${e.type}:${e.shipmentId}`))
      .toEqual(['temperature_excursion:s1', 'temperature_excursion:s2'])
  })

  it('a temperature range narrower than twice the hysteresis can still clear', async () => {
    const narrow = plan('s1', [stop('s1-end', 0, 'delivery', offset(depot, 90, 100_000))], { tempMinC: 4, tempMaxC: 4.6 })
    const r = rig(narrow, { TEMP_EXCURSION_S: 300 })
    const t = new Track(depot, T0, 30).dwell(10 * 60, 3, { attrs: { temp: 9 } }).dwell(5 * 60, 3, { attrs: { temp: 4.3 } })
    await r.feed(t.fixes)
    expect(r.seq(['temperature_excursion', 'temperature_normal'])).toEqual(['temperature_excursion', 'temperature_normal'])
  })

  it('a condition raised in a state written before shipments were recorded stays raised on the same shipment', async () => {
    const r = rig(routed('s1', depot, 90), { OFF_ROUTE_M: 1000, OFF_ROUTE_S: 120 })
    const t = new Track(depot, T0).driveTo(offset(depot, 0, 5000), 20).dwell(600)
    await r.feed(t.fixes)
    expect(r.seq(['off_route'])).toEqual(['off_route'])
    // as an older version wrote it: no shipmentId
    const state = (await r.state())!
    delete (state.features['offRoute'] as { shipmentId?: string }).shipmentId
    await r.store.compareAndSet(state, state.version)
    r.restart()
    await r.feed(new Track(t.position, t.now).dwell(600).fixes)
    expect(r.seq(['off_route', 'back_on_route'])).toEqual(['off_route'])
  })
})
