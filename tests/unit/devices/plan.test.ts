import { describe, expect, it } from 'vitest'
import { SimClock } from '../../../devices/clock.js'
import { parseConfig } from '../../../devices/config.js'
import { LAYOVER_MS, tripDurationMs, tripsThatFit } from '../../../devices/plan.js'
import { planFleet, previousRunEnd, RESUME_GAP_MS } from '../../../devices/setup.js'
import { params, straightRoute } from './helpers.js'

const WALL = Date.UTC(2026, 10, 28, 10, 0, 0)
// 68 km at 85 % of 80 km/h = 1 h driving, plus 30 min of dwell: a 1.5 h planned trip
const route = straightRoute(68, [[0, 'pickup', 900], [34, 'delivery', 450], [68, 'delivery', 450]])
const credentials = (n: number, simulatedUntil?: number) =>
  Array.from({ length: n }, (_, i) => ({ deviceId: `d${i}`, secret: 's', ...(simulatedUntil !== undefined ? { simulatedUntil } : {}) }))
const config = (...flags: string[]) => parseConfig(['--tenant', 't', '--devices-file', 'x.json', '--seed', '1', ...flags], {})

describe('trip planning', () => {
  const trip = tripDurationMs(route, params())

  it.each([
    { horizon: trip * 0.5, trips: 1, why: 'not even one fits: still one, every vehicle drives' },
    { horizon: trip, trips: 1, why: 'exactly one' },
    { horizon: 2 * trip + LAYOVER_MS - 1, trips: 1, why: 'the second trip would end 1 ms too late' },
    { horizon: 2 * trip + LAYOVER_MS, trips: 2, why: 'two trips and the layover between them' },
    { horizon: 3 * trip + 2 * LAYOVER_MS - 60_000, trips: 2, why: 'a third trip would end a minute too late' },
  ])('as many whole trips as fit, at least one: $trips ($why)', ({ horizon, trips }) => {
    expect(tripsThatFit(route, horizon, 0, params())).toBe(trips)
    // after a stagger, the same trips need that much more time
    expect(tripsThatFit(route, horizon + 600_000, 600_000, params())).toBe(trips)
  })

  it('with --duration, plans no trip that would still be under way when the run ends', () => {
    // 2.5 planned trips' worth of simulated time: two fit, the third would be cut off
    const c = config('--speedup', '60', '--stagger', '0', '--duration', String(((2.5 * (trip + LAYOVER_MS)) / 60_000)))
    const { clock, plans } = planFleet(c, credentials(3), [route, route, route], WALL)
    const runEnd = clock.simStart + c.duration! * 1000 * c.speedup
    for (const p of plans) {
      expect(p.trips).toHaveLength(2)
      for (const t of p.trips) expect(t.plannedEnd).toBeLessThanOrEqual(runEnd)
    }
  })
})

describe('repeating a run with the same devices', () => {
  it('the clock never starts before the end of the previous run recorded in the devices file', () => {
    const c = config('--speedup', '120', '--duration', '300')
    const fresh = planFleet(c, credentials(4), Array.from({ length: 4 }, () => route), WALL)
    // a previous run ended 20 simulated minutes ago; a fresh anchor would start hours before that
    const previousEnd = WALL - 20 * 60_000
    expect(fresh.clock.simStart).toBeLessThan(previousEnd)
    const again = planFleet(c, [...credentials(3), ...credentials(1, previousEnd)], Array.from({ length: 4 }, () => route), WALL)
    expect(again.clock.simStart).toBe(previousEnd + RESUME_GAP_MS)
    for (const p of again.plans) expect(p.trips[0]!.plannedStart).toBeGreaterThan(previousEnd)
    // only 20 min can be compressed; the rest of the 300 s runs in real time: one trip fits, not ten
    expect(again.plans.every((p) => p.trips.length === 1)).toBe(true)
    expect(fresh.plans.some((p) => p.trips.length > 1)).toBe(true)
  })

  it('the clock catches up with the wall clock sooner and never runs ahead of it', () => {
    let wall = WALL
    const clock = SimClock.anchored({ wallStart: WALL, horizonMs: 10 * 3_600_000, speedup: 60, notBefore: WALL - 59 * 60_000, wall: () => wall })
    expect(clock.now()).toBe(WALL - 59 * 60_000)
    wall = WALL + 60_000 // 59 simulated minutes later: caught up
    expect(clock.now()).toBe(wall)
    wall += 5000
    expect(clock.now()).toBe(wall)
    // a recorded end in the future (another machine's clock) cannot push the start past "now"
    expect(SimClock.anchored({ wallStart: WALL, horizonMs: 3_600_000, speedup: 60, notBefore: WALL + 3_600_000 }).simStart).toBe(WALL)
  })

  it('takes the latest recorded end of the devices driven', () => {
    expect(previousRunEnd(credentials(2))).toBeUndefined()
    expect(previousRunEnd([...credentials(1, 5), ...credentials(1, 9), ...credentials(1)])).toBe(9)
  })
})
