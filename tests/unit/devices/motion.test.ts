import { describe, expect, it } from 'vitest'
import { maxSpeedMps } from '../../../devices/motion/params.js'
import { approachSpeed, stoppingCap } from '../../../devices/motion/speed.js'
import { LEAVE_M, TripRunner } from '../../../devices/motion/trips.js'
import { haversineM } from '../../../devices/geo.js'
import { VehicleMotion } from '../../../devices/motion/vehicle.js'
import { planTrips } from '../../../devices/plan.js'
import { mulberry32 } from '../../../devices/random.js'
import type { Route } from '../../../devices/routes.js'
import { params, straightRoute } from './helpers.js'

const T0 = Date.UTC(2025, 0, 6, 6, 0, 0)
const route = straightRoute(60, [[0, 'pickup', 1800], [20, 'delivery', 900], [35, 'waypoint', 0], [60, 'delivery', 1200]])

/** Drives a whole trip, sampling every `sampleS` seconds; returns the samples and the motion. */
function drive(r: Route, p = params(), seed = 1, sampleS = 1) {
  const motion = new VehicleMotion(r, T0, p, mulberry32(seed))
  const samples: { t: number, speed: number, d: number, phase: string }[] = []
  for (let t = T0; motion.finishedAt === null && t < T0 + 24 * 3600_000; t += sampleS * 1000) {
    motion.advanceTo(t)
    const s = motion.state()
    samples.push({ t, speed: s.speed, d: s.distanceM, phase: s.phase })
  }
  return { motion, samples }
}

describe('vehicle motion', () => {
  describe.each([
    { name: 'defaults', p: params(), limit: undefined },
    { name: 'no variability, no traffic', p: params({ speedVar: 0, trafficPerHour: 0 }), limit: undefined },
    { name: 'wild variability, heavy traffic', p: params({ speedVar: 0.5, trafficPerHour: 6 }), limit: undefined },
    { name: 'city speed limit', p: params(), limit: 50 },
  ])('speed profile: $name', ({ p, limit }) => {
    const r = limit === undefined ? route : straightRoute(60, [[0, 'pickup', 600], [30, 'delivery', 600], [60, 'delivery', 600]], limit)
    const { motion, samples } = drive(r, p, 42)
    const vmax = maxSpeedMps(p, limit)

    it('never exceeds cruise × (1 + variability) and never goes negative', () => {
      for (const s of samples) {
        expect(s.speed).toBeGreaterThanOrEqual(0)
        expect(s.speed).toBeLessThanOrEqual(vmax + 1e-9)
      }
      expect(Math.max(...samples.map((s) => s.speed))).toBeGreaterThan(vmax * 0.6)
    })

    it('speeds up no faster than the acceleration limit and only moves forward', () => {
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i]!.speed - samples[i - 1]!.speed).toBeLessThanOrEqual(p.accelMps2 * 1 + 1e-9)
        expect(samples[i]!.d).toBeGreaterThanOrEqual(samples[i - 1]!.d - 1e-9)
      }
    })

    it('finishes the trip at the end of the line', () => {
      expect(motion.finishedAt).not.toBeNull()
      expect(motion.distanceM).toBeCloseTo(r.path.lengthM, 3)
    })
  })

  it('dwells at every stop for the planned dwell ± jitter, standing still on the stop', () => {
    const p = params({ dwellJitter: 0.2 })
    const { motion } = drive(route, p, 7)
    route.stops.forEach((stop, i) => {
      const v = motion.visits[i]!
      const dwellS = (v.departedAt! - v.arrivedAt!) / 1000
      if (stop.plannedDwellS === 0) { expect(dwellS).toBe(0); return }
      expect(dwellS).toBeGreaterThanOrEqual(stop.plannedDwellS * 0.8 - 1e-6)
      expect(dwellS).toBeLessThanOrEqual(stop.plannedDwellS * 1.2 + 1e-6)
    })
    // and in the middle of a dwell the truck stands on the stop
    const mid = new VehicleMotion(route, T0, p, mulberry32(7))
    const v1 = motion.visits[1]!
    mid.advanceTo((v1.arrivedAt! + v1.departedAt!) / 2)
    const s = mid.state()
    expect(s).toMatchObject({ phase: 'dwelling', speed: 0 })
    expect(s.distanceM).toBeCloseTo(route.stops[1]!.distanceM, 6)
  })

  it('records arrival at the exact moment the vehicle reaches the stop', () => {
    const { motion } = drive(route, params(), 3)
    route.stops.forEach((stop, i) => {
      if (i === 0) return
      const arrivedAt = motion.visits[i]!.arrivedAt!
      const replay = new VehicleMotion(route, T0, params(), mulberry32(3))
      replay.advanceTo(arrivedAt - 1)
      expect(replay.distanceM).toBeLessThan(stop.distanceM)
      expect(replay.distanceM).toBeGreaterThan(stop.distanceM - 30)
      const events = replay.advanceTo(arrivedAt)
      expect(events).toContainEqual({ kind: 'arrived', stop: i, t: arrivedAt })
      expect(replay.distanceM).toBeCloseTo(stop.distanceM, 6)
    })
  })

  it('drives through a stop without dwell: arrival = departure, still moving', () => {
    const { motion } = drive(route, params(), 5)
    const v = motion.visits[2]!
    expect(v.arrivedAt).toBe(v.departedAt)
    const replay = new VehicleMotion(route, T0, params(), mulberry32(5))
    replay.advanceTo(v.arrivedAt!)
    expect(replay.state().speed).toBeGreaterThan(1)
  })

  it('gives the same truth however often it is asked (fix interval does not change the trip)', () => {
    const a = drive(route, params(), 11, 5).motion.visits
    const b = drive(route, params(), 11, 37).motion.visits
    expect(b).toEqual(a)
  })

  it('waits at the pickup until its departure time', () => {
    const motion = new VehicleMotion(route, T0, params(), mulberry32(1))
    expect(motion.advanceTo(T0 - 60_000)).toEqual([])
    expect(motion.state()).toMatchObject({ phase: 'waiting', speed: 0, distanceM: 0 })
    expect(motion.advanceTo(T0)).toEqual([{ kind: 'arrived', stop: 0, t: T0 }])
  })

  it.each([
    { v: 10, desired: 20, dt: 1, expected: 10.5 },
    { v: 10, desired: 10.2, dt: 1, expected: 10.2 },
    { v: 20, desired: 5, dt: 1, expected: 17 },
    { v: 20, desired: 19, dt: 1, expected: 19 },
  ])('approachSpeed($v → $desired) = $expected', ({ v, desired, dt, expected }) => {
    expect(approachSpeed(v, desired, dt, 0.5, 3)).toBeCloseTo(expected, 9)
  })

  it.each([
    { remaining: 0, cap: 2 }, { remaining: 1, cap: 2 }, { remaining: 200, cap: 20 }, { remaining: 50, cap: 10 },
  ])('stoppingCap($remaining m) = $cap m/s', ({ remaining, cap }) => {
    expect(stoppingCap(remaining, 1, 2)).toBeCloseTo(cap, 9)
  })

  it('chains trips: the truck stays at the stop the trips share and the return leg leaves after its planned start and dwell', () => {
    const trips = planTrips(route, 2, T0, params())
    expect(trips[1]!.route.stops[0]!.type).toBe('pickup')
    expect(trips[1]!.route.stops.at(-1)!.type).toBe('delivery')
    const runner = new TripRunner(trips, params(), mulberry32(9))
    const states: { t: number, lat: number, lon: number }[] = []
    for (let t = T0; runner.finishedAt === null && t < T0 + 48 * 3600_000; t += 60_000) {
      runner.advanceTo(t)
      const s = runner.state()
      states.push({ t, lat: s.lat, lon: s.lon })
    }
    const [first, second] = runner.truth()
    const shared = first!.stops.at(-1)!
    const pickup = second!.stops[0]!
    // one stay at one place: arrived with the first trip, left with the second (layover and loading in between)
    expect(pickup.arrivedAt).toBe(shared.arrivedAt)
    expect(shared.departedAt).toBe(pickup.departedAt)
    expect(first!.finishedAt).toBe(pickup.departedAt)
    expect(pickup.departedAt!).toBeGreaterThanOrEqual(trips[1]!.plannedStart + pickup.plannedDwellS * 1000 * (1 - params().dwellJitter))
    // and it really did not move before that
    for (const s of states.filter((x) => x.t >= shared.arrivedAt! && x.t <= pickup.departedAt!)) expect(haversineM(s.lat, s.lon, shared.lat, shared.lon)).toBeLessThan(1)
    expect(states.some((x) => x.t > pickup.departedAt! && haversineM(x.lat, x.lon, shared.lat, shared.lon) > 100)).toBe(true)
    expect(second!.stops.every((s) => s.arrivedAt !== null && s.departedAt !== null)).toBe(true)
  })

  it('a truck whose device comes online before its planned start is at its first stop from that first reading, and leaves on plan', () => {
    const trips = planTrips(route, 1, T0, params())
    const early = new TripRunner(trips, params(), mulberry32(4))
    const onPlan = new TripRunner(trips, params(), mulberry32(4))
    early.begin(T0 - 10 * 60_000)
    for (const runner of [early, onPlan]) for (let t = T0 - 10 * 60_000; t < T0 + 3 * 3600_000; t += 5000) runner.advanceTo(t)
    const [e] = early.truth()
    const [p] = onPlan.truth()
    expect(e!.stops[0]!.arrivedAt).toBe(T0 - 10 * 60_000)
    expect(p!.stops[0]!.arrivedAt).toBe(T0)
    // same dwell draw, same departure: only the arrival moved to when the truck was seen there
    expect(e!.stops[0]!.departedAt).toBe(p!.stops[0]!.departedAt)
    expect(e!.stops.slice(1)).toEqual(p!.stops.slice(1))
  })

  it('a late device: the trip starts at its first reading, so no stop is passed unseen and no event is older than that reading', () => {
    const trips = planTrips(route, 1, T0, params())
    const runner = new TripRunner(trips, params(), mulberry32(5))
    const first = T0 + 45 * 60_000
    runner.begin(first)
    const events = []
    for (let t = first; runner.finishedAt === null && t < T0 + 24 * 3600_000; t += 5000) events.push(...runner.advanceTo(t))
    const [truth] = runner.truth()
    expect(truth!.stops[0]!.arrivedAt).toBe(first)
    expect(events.length).toBeGreaterThan(0)
    expect(Math.min(...events.map((e) => Number(e.ts)))).toBeGreaterThanOrEqual(first)
  })

  it('a truck that ended its previous run elsewhere drives from there to its first stop before the trip', () => {
    const trips = planTrips(route, 1, T0 + 30 * 60_000, params())
    const from = { lat: route.stops[0]!.lat - 0.1, lon: route.stops[0]!.lon } // ~11 km south of the first stop
    const runner = new TripRunner(trips, params(), mulberry32(6), { from, plannedStart: T0 })
    runner.begin(T0 - 60_000)
    const start = runner.state()
    expect(haversineM(start.lat, start.lon, from.lat, from.lon)).toBeLessThan(1)
    let last = start
    for (let t = T0 - 60_000; runner.finishedAt === null && t < T0 + 24 * 3600_000; t += 5000) {
      runner.advanceTo(t)
      const s = runner.state()
      // never a jump: at most ~cruise speed between two readings 5 s apart
      expect(haversineM(s.lat, s.lon, last.lat, last.lon)).toBeLessThan(200)
      last = s
    }
    const [truth] = runner.truth()
    expect(truth!.stops[0]!.arrivedAt!).toBeGreaterThan(T0)
    expect(truth!.stops.every((s) => s.arrivedAt !== null && s.departedAt !== null)).toBe(true)
    expect(runner.distanceDrivenM).toBeGreaterThan(route.path.lengthM + 10_000)
  })

  it('after the last trip the truck drives off the final stop before it is finished (so the delivery can be confirmed)', () => {
    const trips = planTrips(route, 1, T0, params())
    const runner = new TripRunner(trips, params(), mulberry32(3))
    for (let t = T0; runner.finishedAt === null && t < T0 + 48 * 3600_000; t += 5_000) runner.advanceTo(t)
    const [truth] = runner.truth()
    const last = truth!.stops.at(-1)!
    expect(truth!.finishedAt).toBe(last.departedAt) // the truth is the departure, not the drive off
    expect(runner.finishedAt!).toBeGreaterThan(truth!.finishedAt!)
    const end = runner.state()
    expect(haversineM(end.lat, end.lon, last.lat, last.lon)).toBeGreaterThan(LEAVE_M - 50)
    expect(end.phase).toBe('done')
  })
})
