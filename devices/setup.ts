// Turns a config and a list of credentials into planned vehicles: a route each, trip plans, and the
// simulated clock anchored so the whole plan ends by "now" (see clock.ts).
import { SimClock } from './clock.js'
import type { SimConfig } from './config.js'
import type { DeviceCredential } from './credentials.js'
import type { FaultParams } from './faults/faults.js'
import { DEFAULT_MOTION, type MotionParams } from './motion/params.js'
import type { VehicleTrip } from './motion/trips.js'
import { HORIZON_PESSIMISM, LAYOVER_MS, planTrips, tripDurationMs, tripsThatFit } from './plan.js'
import { deriveSeed, mulberry32, uniform } from './random.js'
import { randomRoute } from './random-route.js'
import type { Route } from './routes.js'

/** Independent random streams per vehicle, so e.g. turning faults on does not change how trucks drive. */
const SLACK_WALL_MS = 5000

export const STREAM = { plan: 1, route: 2, motion: 3, faults: 4, sensors: 5 } as const

export interface VehiclePlan {
  index: number
  credential: DeviceCredential
  route: Route
  trips: VehicleTrip[]
}

export function motionParams(c: SimConfig): MotionParams {
  return { ...DEFAULT_MOTION, cruiseMps: c.speedKmh / 3.6, speedVar: c.speedVar, trafficPerHour: c.traffic, dwellJitter: c.dwellJitter }
}

export function faultParams(c: SimConfig): FaultParams {
  return {
    noiseM: c.noiseM, jumpProb: c.jumpProb, gapProb: c.gapProb, gapS: c.gapS, reconnectProb: c.reconnectProb,
    dropProb: c.dropProb, dupProb: c.dupProb, malformedPct: c.malformedPct,
  }
}

/** The route of each device: shipped routes round-robin, the named ones round-robin, or random ones. */
export function chooseRoutes(c: SimConfig, count: number, shipped: Route[]): Route[] {
  if (c.routes === 'random') {
    return Array.from({ length: count }, (_, i) => randomRoute(mulberry32(deriveSeed(c.seed, i, STREAM.route)), c.bbox, `random-${i + 1}`))
  }
  let pool = shipped
  if (c.routes !== 'all') {
    const names = c.routes.split(',').map((n) => n.trim()).filter(Boolean)
    const unknown = names.filter((n) => !shipped.some((r) => r.name === n))
    if (unknown.length > 0) throw new Error(`unknown route ${unknown.join(', ')}; shipped routes: ${shipped.map((r) => r.name).join(', ')}`)
    pool = names.map((n) => shipped.find((r) => r.name === n)!)
  }
  if (pool.length === 0) throw new Error('no routes to drive')
  return Array.from({ length: count }, (_, i) => pool[i % pool.length]!)
}

/** A run resumes this long (simulated) after the recorded end of the previous run of its devices. */
export const RESUME_GAP_MS = 1000

/**
 * The latest simulated end of an earlier run of these devices (`simulatedUntil` in the devices file).
 * The fleet shares one clock, so the device that ran last decides for all.
 */
export function previousRunEnd(credentials: readonly DeviceCredential[]): number | undefined {
  const ends = credentials.flatMap((d) => d.simulatedUntil !== undefined ? [d.simulatedUntil] : [])
  return ends.length > 0 ? Math.max(...ends) : undefined
}

/**
 * Plans every vehicle and anchors the clock. The horizon is what the run will simulate: all planned
 * trips (with slack for traffic), or the simulated time --duration covers if that is shorter. The
 * clock starts after the previous run of the same devices, if the devices file recorded one.
 */
export function planFleet(c: SimConfig, credentials: DeviceCredential[], routes: Route[], wallStart: number): { clock: SimClock, plans: VehiclePlan[] } {
  const params = motionParams(c)
  const previousEnd = previousRunEnd(credentials)
  const notBefore = previousEnd !== undefined ? previousEnd + RESUME_GAP_MS : undefined
  const durationSimMs = c.duration !== undefined ? durationSpanMs(c.duration * 1000, c.speedup, wallStart, notBefore) : undefined
  const staggers = credentials.map((_, i) => uniform(mulberry32(deriveSeed(c.seed, i, STREAM.plan)), 0, c.stagger * 1000))
  const counts = routes.map((route, i) => c.trips ?? (durationSimMs !== undefined ? tripsThatFit(route, durationSimMs, staggers[i]!, params) : 1))
  const planned = Math.max(...routes.map((route, i) => staggers[i]! + counts[i]! * (tripDurationMs(route, params) + LAYOVER_MS) - LAYOVER_MS))
  // plus a few wall seconds of slack for connecting and shutting down, so a run that ends on time
  // never touches the clamp
  const horizonMs = Math.min(planned * HORIZON_PESSIMISM, durationSimMs ?? Number.POSITIVE_INFINITY) + SLACK_WALL_MS * c.speedup
  const clock = SimClock.anchored({ wallStart, horizonMs, speedup: c.speedup, notBefore })
  const plans = credentials.map((credential, index): VehiclePlan => {
    const route = routes[index]!
    return { index, credential, route, trips: planTrips(route, counts[index]!, Math.round(clock.simStart + staggers[index]!), params) }
  })
  return { clock, plans }
}

/**
 * Simulated time `durationMs` of wall time covers: × speedup, unless the clock cannot start early
 * enough (`notBefore`) and reaches the wall clock before the end, after which it runs in real time.
 */
function durationSpanMs(durationMs: number, speedup: number, wallStart: number, notBefore: number | undefined): number {
  const compressed = durationMs * speedup
  if (notBefore === undefined) return compressed
  return Math.max(0, Math.min(compressed, wallStart + durationMs - notBefore))
}
