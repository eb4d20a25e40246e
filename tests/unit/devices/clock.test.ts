import { describe, expect, it } from 'vitest'
import { SimClock } from '../../../devices/clock.js'
import { parseConfig } from '../../../devices/config.js'
import { planFleet } from '../../../devices/setup.js'
import { straightRoute } from './helpers.js'

const WALL = Date.UTC(2025, 5, 1, 12, 0, 0)

describe('simulated clock', () => {
  it.each([
    { speedup: 1, horizonMs: 3_600_000 },
    { speedup: 60, horizonMs: 8 * 3_600_000 },
    { speedup: 600, horizonMs: 30 * 60_000 },
    { speedup: 5000, horizonMs: 48 * 3_600_000 },
  ])('speedup $speedup: compresses time, ends the horizon at "now", never runs ahead of the wall clock', ({ speedup, horizonMs }) => {
    let wall = WALL
    const clock = SimClock.anchored({ wallStart: WALL, horizonMs, speedup, wall: () => wall })
    const start = clock.now()
    expect(start).toBe(clock.simStart)
    expect(WALL - start).toBeCloseTo(horizonMs * (1 - 1 / speedup), -1)

    // time compression: one wall second is `speedup` simulated seconds
    wall += 1000
    expect(clock.now() - start).toBeCloseTo(1000 * speedup, -1)

    // at the end of the horizon simulated time has caught up with the wall clock
    wall = WALL + horizonMs / speedup
    expect(Math.abs(clock.now() - wall)).toBeLessThanOrEqual(2)

    // and past it, the clamp holds it there: never in the future, moving in real time
    for (const extra of [1, 1000, 60_000, 3_600_000]) {
      wall = WALL + horizonMs / speedup + extra
      expect(clock.now()).toBeLessThanOrEqual(wall)
      expect(clock.now()).toBeGreaterThanOrEqual(wall - 2)
    }
    expect(clock.clamped()).toBe(speedup > 1)
  })

  it('refuses a speedup below 1 (simulated time would fall behind and never catch up)', () => {
    expect(() => new SimClock(WALL, WALL, 0.5)).toThrow(/speedup/)
  })

  it.each([
    { flags: ['--trips', '2'], label: 'trip-bound' },
    { flags: ['--duration', '30'], label: 'duration-bound' },
    { flags: ['--duration', '30', '--trips', '1'], label: 'both' },
  ])('plans a fleet ($label) whose simulated time ends by the wall clock', ({ flags }) => {
    const c = parseConfig(['--tenant', 't', '--devices-file', 'x.json', '--speedup', '120', '--seed', '1', ...flags])
    const route = straightRoute(100, [[0, 'pickup', 1800], [50, 'delivery', 900], [100, 'delivery', 1200]])
    const credentials = Array.from({ length: 5 }, (_, i) => ({ deviceId: `d${i}`, secret: 's' }))
    const { clock, plans } = planFleet(c, credentials, credentials.map(() => route), WALL)
    expect(clock.simStart).toBeLessThan(WALL)
    const lastPlannedEnd = Math.max(...plans.flatMap((p) => p.trips.map((t) => t.plannedEnd)))
    if (c.duration === undefined) {
      // every planned trip ends before "now" at the time the run is expected to end
      expect(lastPlannedEnd).toBeLessThanOrEqual(WALL + (lastPlannedEnd - clock.simStart) / c.speedup)
      expect(plans.every((p) => p.trips.length === 2)).toBe(true)
    }
    for (const p of plans) expect(p.trips[0]!.plannedStart).toBeGreaterThanOrEqual(clock.simStart)
  })
})
