// A truck that goes quiet on its way: the offline sweep revises its ETAs once the clock passes them,
// so the shipment no longer shows an ETA long past with "on time". Through the real broker,
// pipeline, sweep and API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Track, offset, type LonLat } from '../../helpers/tracks.js'
import { scenario, type Scenario } from '../../helpers/scenario.js'

const MIN = 60_000
const start: LonLat = [4.80, 45.70]
const drop: LonLat = offset(start, 90, 20_000)

describe('ETA of a silent truck', () => {
  let s: Scenario
  beforeAll(async () => { s = await scenario('etaquiet', { OFFLINE_AFTER_S: 1 }) })
  afterAll(async () => { await s?.close() })

  it('is unknown and late once the window has passed without an arrival, with delay_predicted', async () => {
    // 121 minutes ago: 5 minutes of fixes towards a stop 20 km away (window end 60 minutes in), then silence
    const t0 = Date.now() - 121 * MIN
    const shipment = await s.createShipment({
      reference: 'QUIET-1',
      stops: [{ type: 'delivery', name: 'Drop', lon: drop[0], lat: drop[1], windowEnd: new Date(t0 + 60 * MIN).toISOString() }],
    })
    await s.replay(new Track(start, t0, 30).driveTo(offset(start, 90, 6000), 20).fixes)
    const before = (await s.shipment(shipment.id)).stops[0]!
    expect(before.etaStatus).toBe('on_time')
    expect(Date.parse(before.eta!)).toBeLessThan(t0 + 30 * MIN)

    await new Promise((r) => setTimeout(r, 1200))
    expect(await s.node.server.sweep.sweep()).toBe(1)
    await s.node.server.ingestion.drain()
    const after = (await s.shipment(shipment.id)).stops[0]!
    expect(after).toMatchObject({ status: 'pending', eta: null, etaStatus: 'late' })
    const events = await s.events(shipment.id)
    expect(events.filter((e) => ['device_offline', 'delay_predicted'].includes(e.type)).map((e) => e.type).sort()).toEqual(['delay_predicted', 'device_offline'])
    // nothing left that could change until it reports: later sweeps add nothing
    expect(s.node.server.sweep.watching).toBe(0)
    await s.node.server.sweep.sweep()
    expect((await s.events(shipment.id)).length).toBe(events.length)
  })
})
