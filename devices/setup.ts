// Turns a config and a list of credentials into planned vehicles: a route each, trip plans, and the
// simulated clock anchored so the whole plan ends by "now" (see clock.ts). Devices that ran before
// resume: the clock starts after the latest of their recorded ends (devices file, ReTrack's last
// fix), and each truck first drives from where it was to its first stop.
import { SimClock } from './clock.js'
import type { SimConfig } from './config.js'
import type { DeviceCredential } from './credentials.js'
import type { FaultParams } from './faults/faults.js'
import { haversineM, type LonLat } from './geo.js'
import { cruiseFor, DEFAULT_MOTION, type MotionParams } from './motion/params.js'
import type { VehicleTrip } from './motion/trips.js'
import { HORIZON_PESSIMISM, LAYOVER_MS, PLANNING_SPEED_FACTOR, planTrips, tripDurationMs, tripsThatFit } from './plan.js'
import type { DeviceServerState } from './provision.js'
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
  /** where the truck was at the end of its previous run, if away from its first stop: it drives from there first */
  positioning?: Positioning | undefined
  /** km between where the truck was and its route, when too far to drive there: it starts at the first stop */
  jumpKm?: number | undefined
}

/** The drive from where the truck was to the first stop of its first trip, planned to start at `plannedStart`. */
export interface Positioning { from: LonLat, plannedStart: number }

/** Where a device's earlier run ended: simulated time, and where its vehicle was then. */
export interface ResumePoint { until?: number | undefined, position?: LonLat | undefined }

/** Closer than this to its first stop, a truck starts there without a positioning drive. */
export const POSITIONING_MIN_M = 100
/**
 * Farther than this (another route, another continent: --routes changed between runs), a straight
 * drive makes no sense: the truck starts at its first stop, and ReTrack sees one GPS jump. Half of
 * the longest shipped route is ~215 km, so a truck stopped anywhere on its route is within reach.
 */
export const POSITIONING_MAX_M = 300_000

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
  return latestEnd(credentials.map((d) => ({ until: d.simulatedUntil })))
}

function latestEnd(resume: Iterable<ResumePoint>): number | undefined {
  let latest: number | undefined
  for (const r of resume) if (r.until !== undefined && (latest === undefined || r.until > latest)) latest = r.until
  return latest
}

/**
 * Where each device's earlier run ended: the devices file's record (`simulatedUntil`,
 * `lastPosition`) or ReTrack's last accepted fix (`server`, when logged in), whichever is later.
 */
export function resumePoints(credentials: readonly DeviceCredential[], server?: ReadonlyMap<string, DeviceServerState>): Map<string, ResumePoint> {
  return new Map(credentials.map((d) => {
    const fix = server?.get(d.deviceId)?.lastFix ?? null
    const fromServer = fix !== null && (d.simulatedUntil === undefined || fix.ts > d.simulatedUntil)
    return [d.deviceId, fromServer
      ? { until: fix.ts, position: { lat: fix.lat, lon: fix.lon } }
      : { until: d.simulatedUntil, position: d.lastPosition ?? (fix ? { lat: fix.lat, lon: fix.lon } : undefined) }]
  }))
}

/**
 * Which way the first trip goes (towards the end of the route nearer to where the truck is) and how
 * long the drive there takes at planning speed (0 when it is at that stop already).
 */
function startFrom(route: Route, at: LonLat | undefined, params: MotionParams): { firstLeg: 0 | 1, drivingMs: number, from?: LonLat, jumpKm?: number } {
  if (!at) return { firstLeg: 0, drivingMs: 0 }
  const first = route.stops[0]!
  const last = route.stops[route.stops.length - 1]!
  const toFirst = haversineM(at.lat, at.lon, first.lat, first.lon)
  const toLast = haversineM(at.lat, at.lon, last.lat, last.lon)
  const firstLeg = toLast < toFirst ? 1 : 0
  const distanceM = Math.min(toFirst, toLast)
  if (distanceM < POSITIONING_MIN_M) return { firstLeg, drivingMs: 0 }
  if (distanceM > POSITIONING_MAX_M) return { firstLeg: 0, drivingMs: 0, jumpKm: Math.round(toFirst / 1000) }
  return { firstLeg, drivingMs: Math.round((distanceM / (cruiseFor(params, route.maxSpeedKmh) * PLANNING_SPEED_FACTOR)) * 1000), from: at }
}

/**
 * Plans every vehicle and anchors the clock. The horizon is what the run will simulate: all planned
 * trips (with slack for traffic), or the simulated time --duration covers if that is shorter. The
 * clock starts after the previous run of the same devices (`resume`: by default what the devices
 * file recorded), and a truck that ended that run away from its first stop drives there first.
 * With --duration only the trips that end in time get shipments; a vehicle none of whose trips
 * fits still drives its first one, without a shipment.
 */
export function planFleet(c: SimConfig, credentials: DeviceCredential[], routes: Route[], wallStart: number,
  resume: ReadonlyMap<string, ResumePoint> = resumePoints(credentials)): { clock: SimClock, plans: VehiclePlan[] } {
  const params = motionParams(c)
  const previousEnd = latestEnd(resume.values())
  const notBefore = previousEnd !== undefined ? previousEnd + RESUME_GAP_MS : undefined
  const durationSimMs = c.duration !== undefined ? durationSpanMs(c.duration * 1000, c.speedup, wallStart, notBefore) : undefined
  const staggers = credentials.map((_, i) => uniform(mulberry32(deriveSeed(c.seed, i, STREAM.plan)), 0, c.stagger * 1000))
  const starts = routes.map((route, i) => startFrom(route, resume.get(credentials[i]!.deviceId)?.position, params))
  const offsets = staggers.map((stagger, i) => stagger + starts[i]!.drivingMs)
  const fits = routes.map((route, i) => durationSimMs !== undefined ? tripsThatFit(route, durationSimMs, offsets[i]!, params) : undefined)
  const counts = fits.map((fit) => c.trips ?? Math.max(1, fit ?? 1))
  const planned = Math.max(...routes.map((route, i) => offsets[i]! + counts[i]! * (tripDurationMs(route, params) + LAYOVER_MS) - LAYOVER_MS))
  // plus a few wall seconds of slack for connecting and shutting down, so a run that ends on time
  // never touches the clamp
  const horizonMs = Math.min(planned * HORIZON_PESSIMISM, durationSimMs ?? Number.POSITIVE_INFINITY) + SLACK_WALL_MS * c.speedup
  const clock = SimClock.anchored({ wallStart, horizonMs, speedup: c.speedup, notBefore })
  const plans = credentials.map((credential, index): VehiclePlan => {
    const route = routes[index]!
    const { firstLeg, from, jumpKm } = starts[index]!
    const leaveAt = Math.round(clock.simStart + staggers[index]!)
    const trips = planTrips(route, counts[index]!, leaveAt + starts[index]!.drivingMs, params, { firstLeg, shipped: Math.min(counts[index]!, fits[index] ?? Number.POSITIVE_INFINITY) })
    return { index, credential, route, trips, ...(from ? { positioning: { from, plannedStart: leaveAt } } : {}), ...(jumpKm !== undefined ? { jumpKm } : {}) }
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
