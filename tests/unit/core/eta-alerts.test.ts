// ETA alerts through the real pipeline and processors: a pending stop the truck drove past is behind
// it (the next stops are measured from the truck, the passed one neither ages nor churns), a delay
// predicted for a stop is closed when the stop is reached or skipped, a silent truck's ETAs are
// revised by the offline sweep once the clock passes them, and a finished shipment raises no new
// route or temperature alert.
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import type { Fix, Reading } from '../../../src/contracts/payloads.js'
import { stopsOnRoute, type ShipmentPlan } from '../../../src/core/context.js'
import type { CoreEffect } from '../../../src/core/effects.js'
import type { EtaFeature } from '../../../src/core/features/eta-state.js'
import { OfflineSweep } from '../../../src/core/offline-sweep.js'
import { AssetPipeline } from '../../../src/core/pipeline.js'
import type { CoreEvent } from '../../../src/core/fix-processor.js'
import { buildProcessors } from '../../../src/core/processors.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import { RouteLine } from '../../../src/geo/route.js'
import { filterSettings, processingSettings } from '../../../src/ingest/assemble.js'
import { MemoryPresenceStore, MemoryStateStore } from '../../../src/state/memory.js'
import { Track, offset } from '../../helpers/tracks.js'
import { plan, rig, stop, type LonLat } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const MIN = 60_000
const P: LonLat = [8, 50]
const S1 = offset(P, 90, 20_000)
const S2 = offset(P, 90, 60_000)

/** P, then S1 20 km east (window end +60 min), then S2 60 km east (window end +120 min); planned dwell 15 min each. */
function threeStops(withRoute: boolean, over: { s1WindowEnd?: number } = {}): ShipmentPlan {
  const stops = [
    stop('p', 0, 'pickup', P, { plannedDwellS: 900 }),
    stop('s1', 1, 'delivery', S1, { plannedDwellS: 900, windowEnd: over.s1WindowEnd ?? T0 + 60 * MIN }),
    stop('s2', 2, 'delivery', S2, { plannedDwellS: 900, windowEnd: T0 + 120 * MIN }),
  ]
  if (!withRoute) return plan('trip', stops)
  const route = new RouteLine([P, S1, S2])
  return plan('trip', stops, { route, ...stopsOnRoute(route, stops) })
}

/** 5 minutes at P, then past S1 600 m to its north, straight on to S2 at 20 m/s, 15 minutes there (enough to skip S1). */
const pastS1 = () => new Track(P, T0, 30).dwell(300).driveTo(offset(S1, 0, 600), 20).driveTo(S2, 20).dwell(900)

const ofType = (events: CoreEvent[], type: string, stopId?: string) => events.filter((e) => e.type === type && (stopId === undefined || e.stopId === stopId))

describe('a pending stop the truck drove past', () => {
  for (const withRoute of [true, false]) {
    it(`does not hold back the next stop's ETA, and its own ETA stops churning (${withRoute ? 'planned route' : 'no route'})`, async () => {
      const r = rig(threeStops(withRoute))
      await r.feed(pastS1().fixes)
      const arrival = ofType(r.events, 'arrived', 's2')[0]!.ts
      // the truck is 2 km past S1 after ~23 min (5 at P, 18 on the way): from then on S2's ETA is the
      // truck's own drive (give or take the model's error on 40 km), not a return to S1 and a dwell
      // there, and it only comes closer
      const passedAt = T0 + 5 * MIN + (20_000 + 2000) / 20 * 1000
      const s2 = ofType(r.events, 'eta_updated', 's2').filter((e) => e.ts > passedAt).map((e) => Date.parse(e.payload['eta'] as string))
      expect(s2.length).toBeGreaterThan(0)
      for (const eta of s2) expect(Math.abs(eta - arrival)).toBeLessThan(15 * MIN)
      for (let i = 1; i < s2.length; i++) expect(s2[i]!).toBeLessThan(s2[i - 1]!)
      expect(ofType(r.events, 'delay_predicted', 's2')).toEqual([])
      // S1 is reported behind (no ETA) once, not every few minutes; then late when its window ends
      // (09:00) before S2's arrival is confirmed (it needs 5 minutes standing there, to skip S1)
      const s1 = ofType(r.events, 'eta_updated', 's1').filter((e) => e.ts > T0 + 5 * MIN + 20_000 / 20 * 1000)
      expect(s1.map((e) => [e.payload['eta'], e.payload['etaStatus']])).toEqual([[null, 'unknown'], [null, 'late']])
      expect(s1[1]!.ts).toBeGreaterThanOrEqual(T0 + 60 * MIN)
      expect(r.effects.filter((e) => e.kind === 'eta' && e.stopId === 's1').at(-1)).toMatchObject({ eta: null, etaStatus: 'late' })
      // the milestones still skip it once S2 is reached
      expect(r.seq(['stop_skipped', 'arrived'])).toEqual(['arrived:p', 'stop_skipped:s1', 'arrived:s2'])
    })
  }

  it('a stop the truck has not reached yet is not "passed" by a road bending away from it (no route)', async () => {
    // from P the road first heads 3 km west, away from both stops, then east to S1
    const r = rig(threeStops(false))
    const t = new Track(P, T0, 30).dwell(300).driveTo(offset(P, 270, 3000), 20).driveTo(S1, 20)
    await r.feed(t.fixes)
    const eta = (await r.state())!.features['eta'] as EtaFeature
    expect(ofType(r.events, 'arrived', 's1')).toHaveLength(0)
    expect(eta.stops['s1']!.passed).toBeUndefined()
    expect(eta.stops['s1']!.eta).not.toBeNull()
  })

  it('a passed stop whose window is over is late, and its predicted delay is closed when it is skipped', async () => {
    // S1's window ends 15 minutes in: the truck cannot make it, nor does it stop there
    const r = rig(threeStops(true, { s1WindowEnd: T0 + 15 * MIN }))
    await r.feed(pastS1().fixes)
    expect(r.seq(['delay_predicted', 'delay_cleared', 'stop_skipped'])).toEqual(['delay_predicted:s1', 'stop_skipped:s1', 'delay_cleared:s1'])
    // late from before the truck passed it, and never reported with an ETA again
    expect(ofType(r.events, 'eta_updated', 's1').filter((e) => e.ts > T0 + 23 * MIN).map((e) => e.payload['eta'])).toEqual([null])
    expect(ofType(r.events, 'delay_cleared', 's1')[0]!.payload).toMatchObject({ reason: 'skipped', eta: null })
    expect(ofType(r.events, 'eta_updated', 's1').at(-1)!.payload).toMatchObject({ eta: null, etaStatus: 'late' })
  })
})

describe('a predicted delay', () => {
  it('is closed when the stop is reached, late or not (delay_cleared, reason arrived)', async () => {
    // D 40 km east, window end 20 minutes in: at 20 m/s the truck needs ~33
    const d = offset(P, 90, 40_000)
    const r = rig(plan('late', [stop('d', 0, 'delivery', d, { windowEnd: T0 + 20 * MIN })]))
    await r.feed(new Track(P, T0, 30).driveTo(d, 20).dwell(300).fixes)
    expect(r.seq(['delay_predicted', 'late', 'delay_cleared'])).toEqual(['delay_predicted:d', 'late:d', 'delay_cleared:d'])
    expect(ofType(r.events, 'delay_cleared', 'd')[0]!.payload).toMatchObject({ reason: 'arrived', eta: null })
  })

  it('that clears on its own says so (reason eta)', async () => {
    // crawling at 5 m/s the ETA is late; at 30 m/s it is back inside the window
    const d = offset(P, 90, 40_000)
    const r = rig(plan('jam', [stop('d', 0, 'delivery', d, { windowEnd: T0 + 45 * MIN })]))
    await r.feed(new Track(P, T0, 30).driveTo(offset(P, 90, 3000), 5).driveTo(d, 30).fixes)
    expect(r.seq(['delay_predicted', 'delay_cleared'])).toEqual(['delay_predicted:d', 'delay_cleared:d'])
    expect(ofType(r.events, 'delay_cleared', 'd')[0]!.payload['reason']).toBe('eta')
  })
})

describe('a silent truck', () => {
  function node(shipment: ShipmentPlan) {
    const config = loadConfig({}, {})
    const events: CoreEvent[] = []
    const effects: CoreEffect[] = []
    const store = new MemoryStateStore()
    const presence = new MemoryPresenceStore()
    const pipeline = new AssetPipeline(store, statefulStages, buildProcessors(processingSettings(config)), filterSettings(config), {
      dropped: () => undefined, accepted: () => undefined,
      events: (e) => { events.push(...e) }, effects: (e) => { effects.push(...e) },
    }, { load: () => ({ vehicleId: null, fences: null, shipment }) })
    let clock = T0
    const sweep = new OfflineSweep(presence, pipeline, {
      afterS: config.OFFLINE_AFTER_S, everyS: config.OFFLINE_SWEEP_S, eta: { atRiskS: config.ETA_AT_RISK_S, thresholdS: config.ETA_THRESHOLD_S },
    }, pino({ level: 'silent' }), () => clock)
    const key = { tenantId: 't', deviceId: 'd' }
    return {
      events, effects, sweep,
      async feed(readings: Reading[]) {
        for (const x of readings) {
          presence.seen(key, x.ts as number, x.ts as number)
          await pipeline.submit([{ ...x, tenantId: 't', deviceId: 'd', receivedAt: x.ts as number } as Fix])
        }
      },
      /** sweeps every 30 s of wall clock up to `until` */
      async sweepUntil(until: number) {
        for (clock = Math.max(clock, T0); clock <= until; clock += 30_000) await sweep.sweep()
        clock = until
      },
      lastEta: (stopId: string) => effects.filter((e): e is Extract<CoreEffect, { kind: 'eta' }> => e.kind === 'eta' && e.stopId === stopId).at(-1),
    }
  }

  it('has its ETA revised once the clock passes it: unknown, at risk, then late with delay_predicted', async () => {
    // D 20 km east, window end 60 minutes in; 5 minutes of fixes at 20 m/s, then nothing
    const d = offset(P, 90, 20_000)
    const n = node(plan('quiet', [stop('d', 0, 'delivery', d, { windowEnd: T0 + 60 * MIN })]))
    const t = new Track(P, T0, 30).driveTo(offset(P, 90, 6000), 20)
    await n.feed(t.fixes)
    const predicted = n.lastEta('d')!
    expect(predicted.etaStatus).toBe('on_time')
    expect(predicted.eta).toBeGreaterThan(T0 + 18 * MIN)
    // offline after 10 minutes; the ETA (~20 minutes in) still stands then
    await n.sweepUntil(T0 + 16 * MIN)
    expect(ofType(n.events, 'device_offline')).toHaveLength(1)
    expect(n.lastEta('d')).toEqual(predicted)
    expect(n.sweep.watching).toBe(1)
    // the clock passes the ETA with no arrival heard: unknown, at least at risk
    await n.sweepUntil(predicted.eta! + MIN)
    expect(n.lastEta('d')).toMatchObject({ eta: null, etaStatus: 'at_risk' })
    expect(ofType(n.events, 'delay_predicted')).toHaveLength(0)
    // the window ends: late, and the delay is predicted (a fact by now, unless the device is dead at the dock)
    await n.sweepUntil(T0 + 121 * MIN)
    expect(n.lastEta('d')).toMatchObject({ eta: null, etaStatus: 'late' })
    expect(ofType(n.events, 'delay_predicted', 'd')).toHaveLength(1)
    expect(ofType(n.events, 'eta_updated', 'd').map((e) => e.payload['etaStatus'])).toEqual(['on_time', 'at_risk', 'late'])
    // nothing more can change until it reports: no longer watched, no churn
    expect(n.sweep.watching).toBe(0)
    // it reports again: the ETA is computed from its fixes again
    await n.feed(new Track(offset(P, 90, 20_000), T0 + 122 * MIN, 30).driveTo(offset(P, 90, 21_000), 20).fixes)
    expect(n.lastEta('d')!.eta).toBeGreaterThan(T0 + 122 * MIN)
    expect(n.lastEta('d')!.etaStatus).toBe('late')
  })

  it('keeps a later window that the delay does not threaten on time', async () => {
    // D1 25 km east (window end +60), D2 25 km further (window end +8 h): overdue at D1 is not late at D2
    const d1 = offset(P, 90, 25_000), d2 = offset(P, 90, 50_000)
    const n = node(plan('two', [stop('d1', 0, 'delivery', d1, { windowEnd: T0 + 60 * MIN }), stop('d2', 1, 'delivery', d2, { windowEnd: T0 + 480 * MIN })]))
    await n.feed(new Track(P, T0, 30).driveTo(offset(P, 90, 6000), 20).fixes)
    await n.sweepUntil(T0 + 121 * MIN)
    expect(n.lastEta('d1')).toMatchObject({ eta: null, etaStatus: 'late' })
    expect(n.lastEta('d2')).toMatchObject({ eta: null, etaStatus: 'on_time' })
    expect(n.sweep.watching).toBe(1) // D2 turns at risk later
  })
})

describe('a finished shipment', () => {
  it('raises no off_route when a backlog goes on past the last stop', async () => {
    const end = offset(P, 90, 20_000)
    const route = new RouteLine([P, end])
    const stops = [stop('end', 0, 'delivery', end)]
    const r = rig(plan('done', stops, { route, ...stopsOnRoute(route, stops) }), { OFF_ROUTE_M: 1000, OFF_ROUTE_S: 120 })
    // one backlog: to the stop, 5 minutes there, then 10 km north (off the route) and parked
    const t = new Track(P, T0, 30).driveTo(end, 20).dwell(300).driveTo(offset(end, 0, 10_000), 20).dwell(600)
    await r.feed(t.fixes, 500)
    expect(r.seq(['delivered'])).toEqual(['delivered:end'])
    expect(r.seq(['off_route', 'back_on_route'])).toEqual([])
  })

  it('raises no temperature excursion once the last stop is reached', async () => {
    const end = offset(P, 90, 20_000)
    const r = rig(plan('reefer', [stop('end', 0, 'delivery', end)], { tempMinC: 2, tempMaxC: 8 }), { TEMP_EXCURSION_S: 300 })
    const t = new Track(P, T0, 30).driveTo(end, 20, { attrs: { temp: 5 } }).dwell(600, 3, { attrs: { temp: 14 } })
      .driveTo(offset(end, 0, 5000), 20, { attrs: { temp: 14 } }).dwell(600, 3, { attrs: { temp: 14 } })
    await r.feed(t.fixes, 500)
    expect(r.seq(['arrived', 'delivered'])).toEqual(['arrived:end', 'delivered:end'])
    expect(r.seq(['temperature_excursion', 'temperature_normal'])).toEqual([])
  })

  it('still raises them while a stop is left', async () => {
    const end = offset(P, 90, 20_000)
    const r = rig(plan('reefer', [stop('end', 0, 'delivery', end)], { tempMinC: 2, tempMaxC: 8 }), { TEMP_EXCURSION_S: 300 })
    await r.feed(new Track(P, T0, 30).driveTo(offset(P, 90, 15_000), 20, { attrs: { temp: 14 } }).fixes, 500)
    expect(r.seq(['temperature_excursion'])).toEqual(['temperature_excursion'])
  })
})
