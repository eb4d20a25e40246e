// The fleet pace through the real pipeline: an asset hands each leg's paces over when it reaches a
// stop (one 'pace' effect, the moving time of that leg only), and an asset with no driving of its
// own predicts from its fleet's paces instead of the configured defaults, until its own take over.
import { describe, expect, it } from 'vitest'
import type { CoreEffect } from '../../../src/core/effects.js'
import { FLEET_MEMORY_S, mergeFleetPace, type FleetPace } from '../../../src/core/features/fleet-pace.js'
import type { EtaFeature } from '../../../src/core/features/eta-state.js'
import { addSpeed, histogramSeconds, mergeSpeeds, trimmedMeanSpeed, type SpeedHistogram } from '../../../src/geo/eta.js'
import { haversineM } from '../../../src/geo/distance.js'
import { Track, offset } from '../../helpers/tracks.js'
import { plan, rig, stop } from './harness.js'

const T0 = Date.UTC(2026, 0, 5, 8)
const START: [number, number] = [8, 50]
const A = offset(START, 90, 30_000)
const B = offset(A, 90, 40_000)
const SETTINGS = { ETA_CIRCUITY: 1, ETA_DEFAULT_SPEED_KMH: 72, ETA_NEAR_STOP_SPEED_KMH: 36, ETA_NEAR_STOP_M: 3000 }

/** `hours` of moving at `mps`, as an asset's histogram would hold it */
const steady = (mps: number, hours: number): SpeedHistogram => addSpeed(undefined, mps, hours * 3600, 7200)
const paces = (effects: CoreEffect[]) => effects.filter((e): e is Extract<CoreEffect, { kind: 'pace' }> => e.kind === 'pace')

describe('mergeSpeeds and mergeFleetPace', () => {
  it('adds a histogram (scaled) after fading what was there by its moving time', () => {
    const into = steady(20, 1)
    const merged = mergeSpeeds(structuredClone(into), steady(30, 1), 3600)
    // the hour at 20 m/s faded by e^-1, the hour at 30 m/s added whole
    expect(histogramSeconds(merged)).toBeCloseTo(3600 * Math.exp(-1) + 3600, 0)
    expect(trimmedMeanSpeed(merged, 0)).toBeCloseTo((20 * 3600 * Math.exp(-1) + 30 * 3600) / (3600 * Math.exp(-1) + 3600), 3)
    expect(histogramSeconds(mergeSpeeds(undefined, steady(30, 1), 3600, 0.25))).toBeCloseTo(900, 0)
  })

  it('leaves the fleet pace it merges into as it was (a new value), and keeps a side nobody handed over', () => {
    const fleet: FleetPace = { open: steady(20, 2), near: steady(10, 1) }
    const before = structuredClone(fleet)
    const after = mergeFleetPace(fleet, { open: steady(25, 1) })
    expect(fleet).toEqual(before)
    expect(after.near).toEqual(before.near)
    expect(histogramSeconds(after.open)).toBeCloseTo(7200 * Math.exp(-3600 / FLEET_MEMORY_S) + 3600, 0)
  })
})

describe('fleet pace handover', () => {
  it('hands over each leg once, when its stop is reached, with that leg\'s moving time only', async () => {
    const r = rig(plan('s', [stop('a', 1, 'pickup', A, { plannedDwellS: 0 }), stop('b', 2, 'delivery', B, { plannedDwellS: 0 })]), SETTINGS)
    const t = new Track(START, T0, 30).dwell(120).driveTo(A, 20)
    await r.feed(t.fixes)
    expect(paces(r.effects)).toHaveLength(0) // on the way: nothing reached yet
    t.fixes.length = 0
    t.dwell(300).driveTo(B, 25).dwell(300)
    await r.feed(t.fixes)
    const legs = paces(r.effects)
    expect(legs).toHaveLength(2) // A reached, then B: one each, not one per fix after
    const moving = (leg: typeof legs[number]) => histogramSeconds(leg.open) + histogramSeconds(leg.near)
    // 30 km at 20 m/s (1,500 s) and 40 km at 25 m/s (1,600 s), give or take a fix at each end
    expect(moving(legs[0]!)).toBeGreaterThan(1350)
    expect(moving(legs[0]!)).toBeLessThan(1650)
    expect(moving(legs[1]!)).toBeGreaterThan(1450)
    expect(moving(legs[1]!)).toBeLessThan(1750)
    expect(trimmedMeanSpeed(legs[0]!.open)).toBeCloseTo(20, 0)
    // the asset remembers the first leg, but the second handover is the second leg's pace
    expect(trimmedMeanSpeed(legs[1]!.open)).toBeGreaterThan(22)
    expect(legs.every((l) => l.tenantId === 't')).toBe(true)
  })

  it('hands nothing over for driving without a shipment', async () => {
    const r = rig(null, SETTINGS)
    await r.feed(new Track(START, T0, 30).driveTo(A, 20).dwell(300).fixes)
    expect(paces(r.effects)).toHaveLength(0)
    const eta = (await r.state())!.features['eta'] as EtaFeature
    expect(eta.handover).toBeUndefined()
  })
})

describe('eta from the fleet pace', () => {
  const remainingS = async (fleetPace: FleetPace | null, driveS = 0) => {
    const r = rig(plan('s', [stop('b', 1, 'delivery', B, { plannedDwellS: 0 })]), SETTINGS)
    r.context = { ...r.context, fleetPace }
    const t = new Track(START, T0, 30).dwell(60)
    if (driveS > 0) t.driveTo(offset(START, 90, driveS * 15), 15)
    await r.feed(t.fixes)
    const state = (await r.state())!
    const eta = (state.features['eta'] as EtaFeature).stops['b']!.eta!
    return { seconds: (eta - state.lastFix!.ts) / 1000, legM: haversineM([state.lastFix!.lon, state.lastFix!.lat], B) - 250 }
  }

  it('a new asset drives at its fleet\'s paces, not the defaults', async () => {
    const fleet: FleetPace = { open: steady(25, 5), near: steady(12, 1) }
    const withFleet = await remainingS(fleet)
    const withDefaults = await remainingS(null)
    // parked at the yard: 70 km less the fence, the last 3 km of it at the near-stop pace
    const nearM = 3000
    expect(withFleet.seconds).toBeCloseTo(nearM / 12 + (withFleet.legM - nearM) / 25, -1)
    expect(withDefaults.seconds).toBeCloseTo(nearM / 10 + (withDefaults.legM - nearM) / 20, -1)
  })

  it('its own pace takes over as it drives', async () => {
    const fleet: FleetPace = { open: steady(25, 5), near: steady(12, 1) }
    // an hour at 15 m/s of its own: the fleet's 25 m/s hardly counts any more
    const own = await remainingS(fleet, 3600)
    const openS = (mps: number) => (own.legM - 3000) / mps + 3000 / 12
    expect(Math.abs(own.seconds - openS(15))).toBeLessThan(Math.abs(own.seconds - openS(25)) / 10)
  })
})
