// Trip plans: which route each vehicle drives, when each trip is planned to leave, and the planned
// arrival at every stop. Planned times feed the shipments' appointment windows and the clock anchor;
// the vehicle model then decides the TRUE times, which the truth file reports.
import type { MotionParams } from './motion/params.js'
import { cruiseFor } from './motion/params.js'
import { reverseRoute, type Route, type StopType } from './routes.js'

/** Planned average speed as a share of cruise: acceleration, braking into stops and traffic. */
export const PLANNING_SPEED_FACTOR = 0.85
/** Planned pause between two trips of the same vehicle. */
export const LAYOVER_MS = 30 * 60_000
/** The clock's horizon allows trips to run this much longer than planned before the clamp engages. */
export const HORIZON_PESSIMISM = 1.3

export interface PlannedStop {
  name: string
  type: StopType
  lat: number
  lon: number
  radiusM?: number
  plannedDwellS: number
  plannedArrival: number
  plannedDeparture: number
}

export interface TripPlan {
  index: number
  route: Route
  plannedStart: number
  plannedEnd: number
  stops: PlannedStop[]
  /** false for a trip driven without a shipment: with --duration, one that would not end in time */
  shipped: boolean
}

/** Planned duration of one trip, ms (nominal speed plus planned dwell). */
export function tripDurationMs(route: Route, params: MotionParams): number {
  const speed = cruiseFor(params, route.maxSpeedKmh) * PLANNING_SPEED_FACTOR
  return (route.path.lengthM / speed) * 1000 + route.stops.reduce((s, st) => s + st.plannedDwellS * 1000, 0)
}

export function planTrip(index: number, route: Route, startAt: number, params: MotionParams): TripPlan {
  const speed = cruiseFor(params, route.maxSpeedKmh) * PLANNING_SPEED_FACTOR
  let t = startAt
  let lastM = 0
  const stops = route.stops.map((s): PlannedStop => {
    t += ((s.distanceM - lastM) / speed) * 1000
    lastM = s.distanceM
    const plannedArrival = Math.round(t)
    t += s.plannedDwellS * 1000
    return {
      name: s.name, type: s.type, lat: s.lat, lon: s.lon, plannedDwellS: s.plannedDwellS,
      ...(s.radiusM !== undefined ? { radiusM: s.radiusM } : {}), plannedArrival, plannedDeparture: Math.round(t),
    }
  })
  return { index, route, plannedStart: startAt, plannedEnd: Math.round(t), stops, shipped: true }
}

const reversed = new WeakMap<Route, Route>()

/** Leg k drives the route forward when k is even and back when it is odd (the return leg). */
export function routeForTrip(route: Route, k: number): Route {
  if (k % 2 === 0) return route
  let back = reversed.get(route)
  if (!back) { back = reverseRoute(route); reversed.set(route, back) }
  return back
}

/**
 * `count` trips back and forth, the first leaving at `firstStart`. `firstLeg` 1 starts with the
 * return leg (a truck that ended its last run at the route's far end). The first `shipped` trips
 * get shipments; the rest are driven without one.
 */
export function planTrips(route: Route, count: number, firstStart: number, params: MotionParams, options: { firstLeg?: 0 | 1, shipped?: number } = {}): TripPlan[] {
  const trips: TripPlan[] = []
  let start = firstStart
  for (let k = 0; k < count; k++) {
    const trip = { ...planTrip(k, routeForTrip(route, k + (options.firstLeg ?? 0)), start, params), shipped: k < (options.shipped ?? count) }
    trips.push(trip)
    start = trip.plannedEnd + LAYOVER_MS
  }
  return trips
}

/**
 * How many whole planned trips (with the layovers between them) fit into `horizonMs` after
 * `offsetMs`, possibly none. Only these get shipments: a trip that would not end in time would get
 * one that cannot be delivered within the run.
 */
export function tripsThatFit(route: Route, horizonMs: number, offsetMs: number, params: MotionParams): number {
  const trip = tripDurationMs(route, params)
  // n trips take n × trip + (n − 1) × layover
  const fit = Math.floor((horizonMs - offsetMs + LAYOVER_MS) / (trip + LAYOVER_MS))
  return Math.min(1000, Math.max(0, fit))
}
