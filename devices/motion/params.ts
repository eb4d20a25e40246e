// Knobs of the vehicle model. Defaults describe a loaded articulated truck on highways.

export interface MotionParams {
  /** cruise speed before variability, m/s (the route's limit caps it) */
  cruiseMps: number
  /** cruise varies by ±this fraction, redrawn every few kilometres (0.2 = ±20%) */
  speedVar: number
  /** how hard the truck speeds up, m/s² */
  accelMps2: number
  /** comfortable braking towards a stop, m/s² */
  decelMps2: number
  /** strongest braking, used when traffic slows it down, m/s² */
  brakeMps2: number
  /** crawl speed for the last metres into a stop, so it never needs an infinite time to get there */
  approachMps: number
  /** expected traffic slowdowns per hour of driving */
  trafficPerHour: number
  /** actual dwell = planned × (1 ± this fraction) */
  dwellJitter: number
  /** integration step, seconds (longer steps are taken while cruising steadily) */
  stepS: number
  /** cruise target is redrawn after this many metres on average */
  variabilityEveryM: number
}

export const DEFAULT_MOTION: MotionParams = {
  cruiseMps: 80 / 3.6,
  speedVar: 0.2,
  accelMps2: 0.5,
  decelMps2: 1.0,
  brakeMps2: 3.0,
  approachMps: 2,
  trafficPerHour: 1,
  dwellJitter: 0.2,
  stepS: 1,
  variabilityEveryM: 4000,
}

/** The fastest a vehicle can ever go on a route with these params: the bound tests check. */
export function maxSpeedMps(params: MotionParams, routeLimitKmh?: number): number {
  return cruiseFor(params, routeLimitKmh) * (1 + params.speedVar)
}

export function cruiseFor(params: MotionParams, routeLimitKmh?: number): number {
  return routeLimitKmh === undefined ? params.cruiseMps : Math.min(params.cruiseMps, routeLimitKmh / 3.6)
}
