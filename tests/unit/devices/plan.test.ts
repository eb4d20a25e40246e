import { describe, expect, it } from 'vitest'
import { SimClock } from '../../../devices/clock.js'
import { parseConfig } from '../../../devices/config.js'
import { LAYOVER_MS, tripDurationMs, tripsThatFit } from '../../../devices/plan.js'
import { planFleet, previousRunEnd, RESUME_GAP_MS, resumePoints } from '../../../devices/setup.js'
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
    { horizon: trip * 0.5, trips: 0, why: 'not even one fits' },
    { horizon: trip, trips: 1, why: 'exactly one' },
    { horizon: 2 * trip + LAYOVER_MS - 1, trips: 1, why: 'the second trip would end 1 ms too late' },
    { horizon: 2 * trip + LAYOVER_MS, trips: 2, why: 'two trips and the layover between them' },
    { horizon: 3 * trip + 2 * LAYOVER_MS - 60_000, trips: 2, why: 'a third trip would end a minute too late' },
  ])('as many whole trips as fit: $trips ($why)', ({ horizon, trips }) => {
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
      expect(p.trips.every((t) => t.shipped)).toBe(true)
    }
  })

  it('with a --duration too short for one trip, a vehicle drives its first trip without a shipment (none could be delivered)', () => {
    const c = config('--speedup', '60', '--stagger', '0', '--duration', String((0.5 * trip) / 60_000))
    const { plans } = planFleet(c, credentials(2), [route, route], WALL)
    for (const p of plans) expect(p.trips.map((t) => t.shipped)).toEqual([false])
    // --trips asks for the driving; only the trips that end in time still get shipments
    const asked = planFleet(config('--speedup', '60', '--stagger', '0', '--trips', '3', '--duration', String(((1.5 * trip) + LAYOVER_MS) / 60_000)),
      credentials(1), [route], WALL)
    expect(asked.plans[0]!.trips.map((t) => t.shipped)).toEqual([true, false, false])
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

  it('resumes from the later of the devices file and ReTrack\'s last fix: time and position', () => {
    const file = [{ deviceId: 'a', secret: 's', simulatedUntil: 5000, lastPosition: { lat: 1, lon: 2 } }, { deviceId: 'b', secret: 's', simulatedUntil: 9000 }, { deviceId: 'c', secret: 's' }]
    const fix = (ts: number, lat: number) => ({ lastFix: { ts, lat, lon: 0 }, lastDrop: null })
    const points = resumePoints(file, new Map([['a', fix(4000, 7)], ['b', fix(9500, 8)], ['c', fix(100, 9)]]))
    expect(points.get('a')).toEqual({ until: 5000, position: { lat: 1, lon: 2 } }) // the file's is later
    expect(points.get('b')).toEqual({ until: 9500, position: { lat: 8, lon: 0 } }) // ReTrack saw more (another run, one killed hard)
    expect(points.get('c')).toEqual({ until: 100, position: { lat: 9, lon: 0 } })
    expect(resumePoints(file).get('b')).toEqual({ until: 9000, position: undefined })
  })

  it('a truck that ended away from its first stop drives there first: planned into its schedule, towards the nearer end of the route', () => {
    const c = config('--speedup', '60', '--stagger', '0', '--trips', '2')
    const first = route.stops[0]!
    const last = route.stops.at(-1)!
    const at = (lat: number, lon: number) => new Map([['d0', { until: WALL - 3_600_000, position: { lat, lon } }]])
    const near = planFleet(c, credentials(1), [route], WALL, at(first.lat - 0.1, first.lon)) // ~11 km before the first stop
    const p = near.plans[0]!
    expect(p.positioning?.from).toEqual({ lat: first.lat - 0.1, lon: first.lon })
    expect(p.positioning!.plannedStart).toBe(near.clock.simStart)
    // 11.1 km at 85 % of 80 km/h: ~9.8 min before the trip's planned start
    expect(p.trips[0]!.plannedStart - p.positioning!.plannedStart).toBeGreaterThan(9 * 60_000)
    expect(p.trips[0]!.plannedStart - p.positioning!.plannedStart).toBeLessThan(11 * 60_000)
    expect(p.trips[0]!.route.stops[0]!.name).toBe(first.name)
    // at the far end (a finished trip): the return leg first, no drive
    const far = planFleet(c, credentials(1), [route], WALL, at(last.lat, last.lon)).plans[0]!
    expect(far.positioning).toBeUndefined()
    expect(far.trips.map((t) => t.route.stops[0]!.lat)).toEqual([last.lat, first.lat])
    // another continent: no straight drive across it
    const away = planFleet(c, credentials(1), [route], WALL, at(40, -100)).plans[0]!
    expect(away.positioning).toBeUndefined()
    expect(away.jumpKm).toBeGreaterThan(5000)
  })
})
