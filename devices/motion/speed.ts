// The speed profile: what the driver aims for (cruise ± variability, traffic slowdowns) and how the
// speed moves towards it (bounded acceleration and braking). Pure functions of state and the rng.
import { chance, uniform, type Rng } from '../random.js'
import type { MotionParams } from './params.js'

/** Speed after dt seconds, moving from v towards `desired` no faster than the limits allow. */
export function approachSpeed(v: number, desired: number, dtS: number, accelMps2: number, brakeMps2: number): number {
  return v < desired ? Math.min(desired, v + accelMps2 * dtS) : Math.max(desired, v - brakeMps2 * dtS)
}

/**
 * Highest speed from which the truck can still stop within `remainingM` at comfortable braking
 * (v² = 2·a·s), but never below the crawl speed so it reaches the stop in finite time.
 */
export function stoppingCap(remainingM: number, decelMps2: number, approachMps: number): number {
  return Math.max(Math.sqrt(2 * decelMps2 * Math.max(0, remainingM)), approachMps)
}

/** The driver's current aim: a cruise target redrawn every few km, times a traffic factor. */
export class SpeedTarget {
  private base: number
  private nextDrawM = 0
  private trafficUntil = Number.NEGATIVE_INFINITY
  private trafficFactor = 1

  constructor(private readonly cruiseMps: number, private readonly params: MotionParams, private readonly rng: Rng) {
    this.base = cruiseMps
  }

  get inTraffic() { return this.trafficFactor < 1 }

  /** Target speed at time t (ms) and distance d (m), for a step of dtS seconds. */
  at(tMs: number, dM: number, dtS: number): number {
    const p = this.params
    if (dM >= this.nextDrawM) {
      this.base = this.cruiseMps * (1 + uniform(this.rng, -p.speedVar, p.speedVar))
      this.nextDrawM = dM + p.variabilityEveryM * uniform(this.rng, 0.5, 1.5)
    }
    if (tMs >= this.trafficUntil) {
      this.trafficFactor = 1
      // a Poisson process: the chance of a slowdown starting in this step is rate × dt
      if (chance(this.rng, (p.trafficPerHour * dtS) / 3600)) {
        this.trafficFactor = uniform(this.rng, 0.15, 0.6)
        this.trafficUntil = tMs + uniform(this.rng, 120, 900) * 1000
      }
    }
    return this.base * this.trafficFactor
  }
}
