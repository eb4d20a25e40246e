// Simulated multi-stop truck trips with a known truth, for judging ETAs. A truck leaves a depot,
// drives to a pickup and then 1–4 deliveries over roads with realistic circuity; its speed wanders
// ±20% around the trip's cruise speed, it hits traffic (slow crawls and standstills), slows down in
// town near every stop, and dwells at each stop for its planned time ±30–40%. The simulation runs
// in 1 s steps; a tracker reports every FIX_INTERVAL_S with GPS noise. The truth kept per stop is
// the moment the truck first comes within the stop's radius: what ReTrack records as the arrival.
import { destination, haversineM, initialBearingDeg } from '../../src/geo/distance.js'
import type { Fix } from '../../src/contracts/payloads.js'
import type { Position } from '../../src/geo/types.js'
import { COUNTRY, type Area } from './fences.js'
import { gaussian } from '../../devices/random.js'
import { rng, type Rng } from './prng.js'
import { polylineLengthM, road } from './roads.js'

export const FIX_INTERVAL_S = 30
export const STOP_RADIUS_M = 250
/**
 * Slowdowns per driving hour: a crawl of 3–15 min at 10–35 km/h, or (one in three) a 1–5 min
 * standstill; ~2.5 min lost per hour on average (~4% of driving time, typical of inter-urban
 * freight). Unpredictable from the truck's own past, so they set the floor of any ETA without
 * live traffic data: bench:eta shows the error with them switched off.
 */
export const TRAFFIC_PER_HOUR = 0.5
const KMH = 1 / 3.6

export interface SimStop {
  id: string
  seq: number
  type: 'pickup' | 'delivery'
  lon: number
  lat: number
  plannedDwellS: number
  /** what the truck really stays (the final stop: until the simulation ends) */
  actualDwellS: number
}

export interface SimTrip {
  /** simulateTrip(seed, index, …) makes this trip again (e.g. in another World) */
  seed: number
  index: number
  id: string
  tenantId: string
  deviceId: string
  t0: number
  stops: SimStop[]
  /** road from the depot to stop 0, then stop i-1 → stop i */
  legs: [number, number][][]
  /** road length ÷ great-circle distance, per leg */
  circuity: number[]
  cruiseKmh: number
  fixes: Fix[]
  /** true arrival (first time within STOP_RADIUS_M), epoch ms, per stop */
  arrivals: number[]
  /** when the truck starts driving away from each stop (end of its dwell), epoch ms */
  departures: number[]
}

/** Switches for counterfactual worlds (all on by default): what the ETA error is made of. */
export interface World {
  /** the ±20% wandering pace */
  variability: boolean
  /** jams and standstills */
  traffic: boolean
  /** 45 km/h near stops */
  town: boolean
  /** dwell differs from the plan (off: every dwell is exactly as planned) */
  dwellVariance: boolean
}

export const REAL_WORLD: World = { variability: true, traffic: true, town: true, dwellVariance: true }

export interface TripOptions {
  area?: Area
  /** the trip's time origin (epoch ms) */
  t0: number
  world?: World
}

/** A point along a polyline with cumulative distances, and the index of its segment. */
function pointAlong(line: readonly Position[], cum: Float64Array, m: number, hint: { i: number }): [number, number] {
  while (hint.i < line.length - 2 && cum[hint.i + 1]! < m) hint.i++
  const i = hint.i, a = line[i]!, b = line[i + 1]!
  const len = cum[i + 1]! - cum[i]!
  const t = len > 0 ? Math.min(1, Math.max(0, (m - cum[i]!) / len)) : 0
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]
}

class Driver {
  t: number
  private nextFixAt: number
  private factor = 1
  private factorUntil = 0
  private jamUntil = 0
  private jamKmh = 0
  speed = 0
  readonly fixes: Fix[] = []

  /** `r` drives the truck, `noise` the GPS: separate streams, so a counterfactual world that drives differently still gets the same kind of noise */
  constructor(private readonly r: Rng, private readonly noise: Rng, private readonly world: World, private readonly trip: Pick<SimTrip, 'tenantId' | 'deviceId' | 'cruiseKmh'>, t0: number) {
    this.t = t0
    this.nextFixAt = t0
  }

  private report(at: Position, heading: () => number, noiseM: number) {
    const r = this.noise
    const moved = destination(at, r.range(0, 360), Math.abs(gaussian(r.next)) * noiseM)
    this.fixes.push({
      tenantId: this.trip.tenantId, deviceId: this.trip.deviceId, ts: this.t, receivedAt: this.t,
      lon: moved[0], lat: moved[1], speed: Math.max(0, this.speed + gaussian(r.next) * 0.3), heading: heading(), accuracy: Math.round(r.range(4, 12)),
    })
    this.nextFixAt += FIX_INTERVAL_S * 1000
  }

  /** Advances one second; reports when a fix is due (the heading is only worked out then). */
  private tick(at: Position, heading: () => number, noiseM: number) {
    if (this.t >= this.nextFixAt) this.report(at, heading, noiseM)
    this.t += 1000
  }

  /** The speed the driver aims for now, m/s. */
  private target(fromStartM: number, toEndM: number): number {
    const r = this.r, w = this.world
    if (this.t >= this.factorUntil) {
      // the ±20% variability: a new pace every 3–15 minutes (traffic density, gradients, driver)
      this.factor = w.variability ? r.range(0.8, 1.2) : 1
      this.factorUntil = this.t + r.range(180, 900) * 1000
    }
    // traffic: TRAFFIC_PER_HOUR episodes per driving hour, a third of them standstills
    if (w.traffic && this.t >= this.jamUntil && r.next() < TRAFFIC_PER_HOUR / 3600) {
      const standstill = r.next() < 1 / 3
      this.jamKmh = standstill ? 0 : r.range(10, 35)
      this.jamUntil = this.t + (standstill ? r.range(60, 300) : r.range(180, 900)) * 1000
    }
    let kmh = this.trip.cruiseKmh * this.factor
    if (this.t < this.jamUntil) kmh = Math.min(kmh, this.jamKmh)
    // town: the first 2 km after a stop and the last 3 km before one; the yard: the last 300 m
    if (w.town && (fromStartM < 2_000 || toEndM < 3_000)) kmh = Math.min(kmh, 45 * this.factor)
    if (toEndM < 300) kmh = Math.min(kmh, 15)
    return kmh * KMH
  }

  /** Drives `line` to its end; returns when it first came within `radiusM` of the end. */
  drive(line: readonly Position[], radiusM: number): number {
    const cum = new Float64Array(line.length)
    for (let i = 1; i < line.length; i++) cum[i] = cum[i - 1]! + haversineM(line[i - 1]!, line[i]!)
    const total = cum[line.length - 1]!
    const end = line[line.length - 1]!
    const hint = { i: 0 }
    let m = 0
    let arrived: number | null = null
    while (m < total) {
      const target = this.target(m, total - m)
      // accelerate at up to 0.6 m/s², brake at up to 2 m/s²
      this.speed = Math.max(this.speed - 2, Math.min(this.speed + 0.6, target))
      m = Math.min(total, m + this.speed)
      const here = pointAlong(line, cum, m, hint)
      // along the road is never shorter than straight: only the last stretch can be within the radius
      if (arrived === null && total - m < 3 * radiusM && haversineM(here, end) <= radiusM) arrived = this.t + 1000
      this.tick(here, () => initialBearingDeg(line[hint.i]!, line[hint.i + 1]!), 5)
    }
    this.speed = 0
    return arrived ?? this.t
  }

  /** Stays at `at` (parked in a yard: a few metres of GPS wander). */
  dwell(at: Position, seconds: number) {
    for (let s = 0; s < seconds; s++) this.tick(at, () => 0, 8)
  }
}

/**
 * One trip; a seed reproduces it exactly. Geometry (stops, roads, dwell) comes from its own random
 * stream, so the same seed in another World gives the same places and plan, driven differently.
 */
export function simulateTrip(seed: number, index: number, options: TripOptions): SimTrip {
  const r = rng(seed)
  const world = options.world ?? REAL_WORLD
  const area = options.area ?? COUNTRY
  // a depot well inside the area, so the trip (≤ ~600 km) mostly stays in it
  const depot: [number, number] = [r.range(area.minLon + 1, area.maxLon - 1), r.range(area.minLat + 1, area.maxLat - 1)]
  const count = r.int(2, 5) // pickup + 1–4 deliveries
  let bearing = r.range(0, 360)
  let here: Position = destination(depot, bearing, r.range(10_000, 40_000))
  const stops: SimStop[] = []
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      bearing = (bearing + r.range(-60, 60) + 360) % 360
      here = destination(here, bearing, r.range(25_000, 140_000))
    }
    const plannedDwellS = Math.round(r.range(15, 45) / 5) * 5 * 60
    const overrun = r.range(0.7, 1.4) // drawn in every world, so the geometry stream stays aligned
    stops.push({
      id: `stop-${index}-${i}`, seq: i + 1, type: i === 0 ? 'pickup' : 'delivery', lon: here[0], lat: here[1],
      plannedDwellS, actualDwellS: Math.round(plannedDwellS * (world.dwellVariance ? overrun : 1)),
    })
  }
  const trip: SimTrip = {
    seed, index, id: `trip-${index}`, tenantId: '00000000-0000-4000-8000-000000000001', deviceId: `dev_eta_${index}`, t0: options.t0,
    stops, legs: [], circuity: [], cruiseKmh: r.range(70, 90), fixes: [], arrivals: [], departures: [],
  }
  let from: Position = depot
  for (const stop of stops) {
    const c = r.range(1.15, 1.45)
    const line = road(r, from, [stop.lon, stop.lat], c)
    trip.legs.push(line)
    trip.circuity.push(polylineLengthM(line) / haversineM(from, [stop.lon, stop.lat]))
    from = [stop.lon, stop.lat]
  }
  const driver = new Driver(rng(seed ^ 0x5bd1e995), rng(seed ^ 0x27d4eb2f), world, trip, options.t0)
  driver.dwell(depot, r.int(60, 300)) // the tracker is on before the truck leaves
  stops.forEach((stop, i) => {
    trip.arrivals.push(driver.drive(trip.legs[i]!, STOP_RADIUS_M))
    // the last stop: long enough for the arrival to be confirmed, then the bench has what it needs
    driver.dwell([stop.lon, stop.lat], i === stops.length - 1 ? 600 : stop.actualDwellS)
    trip.departures.push(driver.t)
  })
  trip.fixes = driver.fixes
  return trip
}
