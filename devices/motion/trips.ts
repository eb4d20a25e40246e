// Chains a vehicle's trips. The truck is at its first stop from the device's first reading (begin),
// or, when its previous run left it elsewhere, first drives from there to that stop (a straight
// "positioning" drive, no shipment). Trip k+1 starts where trip k ended: the truck stays at that
// stop through the layover and leaves after its planned start and dwell. Turns stop transitions
// into device events and keeps the TRUE times for the truth file.
// After the last trip the truck drives off (LEAVE_M back along the road it came by) before the
// device goes quiet: a real truck leaves the consignee's yard, and ReTrack confirms the final
// delivery on the departure from its fence.
import type { DeviceEventPayload } from '../../src/contracts/payloads.js'
import { stopEvents } from '../device-events.js'
import { haversineM, type LonLat } from '../geo.js'
import type { PlannedStop, TripPlan } from '../plan.js'
import type { Rng } from '../random.js'
import type { MotionParams } from './params.js'
import { reverseRoute, type Route } from '../routes.js'
import type { Positioning } from '../setup.js'
import { RoutePath } from './path.js'
import { VehicleMotion, type StopVisit, type VehicleState } from './vehicle.js'

export type VehicleTrip = TripPlan & { shipmentId?: string | undefined, reference?: string | undefined }

export interface TripTruth {
  trip: number
  route: string
  shipmentId?: string | undefined
  reference?: string | undefined
  /** false: driven without a shipment (it would not have ended within --duration) */
  shipped: boolean
  plannedStart: number
  startedAt: number | null
  finishedAt: number | null
  stops: (PlannedStop & StopVisit)[]
}

const ms = (t: number | null | undefined) => (t === null || t === undefined ? null : Math.round(t))

/** How far the truck drives off after its last stop: well past a stop fence and its exit margin. */
export const LEAVE_M = 3000

/** The road back from the route's end for LEAVE_M (or all of it), with one drive-through point at its end. */
function leaveRoute(route: Route): Route {
  const back = reverseRoute(route)
  const distanceM = Math.min(LEAVE_M, back.path.lengthM)
  const at = back.path.pointAt(distanceM)
  return { ...back, name: `${route.name} (leaving)`, stops: [{ name: 'leaving', type: 'waypoint', lat: at.lat, lon: at.lon, plannedDwellS: 0, distanceM }] }
}

/** Most metres between two vertices of a positioning drive (a straight line, so only for pointAt's sake). */
const POSITIONING_STEP_M = 1000

/** A straight drive from `from` to the first stop of `route`, ending in one drive-through point there. */
function positioningRoute(from: LonLat, route: Route): Route {
  const to = route.stops[0]!
  const n = Math.max(1, Math.ceil(haversineM(from.lat, from.lon, to.lat, to.lon) / POSITIONING_STEP_M))
  const coordinates = Array.from({ length: n + 1 }, (_, i) => [from.lon + ((to.lon - from.lon) * i) / n, from.lat + ((to.lat - from.lat) * i) / n])
  const path = new RoutePath(coordinates)
  return {
    name: `${route.name} (positioning)`, description: 'from where the previous run ended to the first stop', path,
    stops: [{ name: 'positioning', type: 'waypoint', lat: to.lat, lon: to.lon, plannedDwellS: 0, distanceM: path.lengthM }],
    ...(route.maxSpeedKmh !== undefined ? { maxSpeedKmh: route.maxSpeedKmh } : {}),
  }
}

export class TripRunner {
  private k = 0
  /** the trip under way; null before begin() and during the positioning drive */
  private motion: VehicleMotion | null = null
  private positioning: VehicleMotion | null = null
  private begun = false
  private readonly motions: VehicleMotion[] = []
  private readonly started: (number | null)[] = []
  private drivenBefore = 0
  /** the drive off after the last trip (its stop events are not the shipment's) */
  private leaving: VehicleMotion | null = null

  constructor(private readonly trips: VehicleTrip[], private readonly params: MotionParams, private readonly rng: Rng,
    private readonly start?: Positioning) {
    if (trips.length === 0) throw new Error('a vehicle needs at least one trip')
  }

  /**
   * The device's first reading is at `t`: the truck is at its first stop from then on (it leaves
   * after the trip's planned start and the stop's dwell), or starts its positioning drive at its
   * planned time, not before `t`. Without `t` (a device that never got online), at the planned
   * times. Called once; advancing begins by itself.
   */
  begin(t?: number) {
    if (this.begun) return
    this.begun = true
    if (this.start) {
      const leaveAt = Math.max(this.start.plannedStart, t ?? Number.NEGATIVE_INFINITY)
      this.positioning = new VehicleMotion(positioningRoute(this.start.from, this.trips[0]!.route), leaveAt, this.params, this.rng)
    } else {
      this.motion = this.startTrip(0, t ?? this.trips[0]!.plannedStart)
    }
  }

  /** Sim ms when the truck had driven off after its last trip, or null while driving. */
  get finishedAt(): number | null {
    return this.leaving?.finishedAt ?? null
  }

  get distanceDrivenM() {
    return this.drivenBefore + (this.motion ?? this.positioning)!.distanceM + (this.leaving?.distanceM ?? 0)
  }

  /** Advances to t; returns the device events that became due on the way, in event-time order. */
  advanceTo(t: number): DeviceEventPayload[] {
    this.begin()
    const out: DeviceEventPayload[] = []
    if (this.motion === null) {
      const positioning = this.positioning!
      positioning.advanceTo(t)
      const arrived = positioning.finishedAt
      if (arrived === null) return out
      this.drivenBefore += positioning.distanceM
      this.motion = this.startTrip(0, arrived)
    }
    for (;;) {
      const trip = this.trips[this.k]!
      for (const e of this.motion.advanceTo(t)) {
        if (e.kind === 'arrived' && e.stop === 0) this.started[this.k] ??= e.t
        out.push(...stopEvents(e, trip.route.stops[e.stop]!, { trip: this.k, shipmentId: trip.shipmentId }))
      }
      const done = this.motion.finishedAt
      if (done !== null && this.k + 1 >= this.trips.length) {
        this.leaving ??= new VehicleMotion(leaveRoute(trip.route), done, this.params, this.rng)
        this.leaving.advanceTo(t)
      }
      if (done === null || this.k + 1 >= this.trips.length) break
      this.drivenBefore += this.motion.distanceM
      this.k++
      // the truck is at this trip's first stop already (the last one of the trip before)
      this.motion = this.startTrip(this.k, done)
    }
    return out.sort((a, b) => Number(a.ts) - Number(b.ts))
  }

  state(): VehicleState {
    this.begin()
    return (this.leaving ?? this.motion ?? this.positioning)!.state()
  }

  /**
   * What really happened, per trip. A stop is "arrived" from the moment the truck is there and
   * reporting (a trip's first stop: from the device's first reading at the latest) until it really
   * leaves: between two trips the truck stays at the stop they share (layover, loading), so the
   * earlier trip's last stop is departed, and that trip finished, only when the next one leaves it.
   */
  truth(): TripTruth[] {
    const out = this.trips.map((trip, k): TripTruth => {
      const visits: StopVisit[] | undefined = this.motions[k]?.visits
      return {
        trip: k, route: trip.route.name, shipmentId: trip.shipmentId, reference: trip.reference, shipped: trip.shipped, plannedStart: trip.plannedStart,
        startedAt: this.started[k] ?? null,
        finishedAt: ms(visits?.[visits.length - 1]?.departedAt),
        stops: trip.stops.map((s, i) => ({ ...s, arrivedAt: ms(visits?.[i]?.arrivedAt), departedAt: ms(visits?.[i]?.departedAt) })),
      }
    })
    for (let k = 1; k < out.length && this.motions[k]; k++) {
      const before = out[k - 1]!
      const last = before.stops[before.stops.length - 1]!
      const first = out[k]!.stops[0]!
      first.arrivedAt = last.arrivedAt ?? first.arrivedAt
      last.departedAt = first.departedAt
      before.finishedAt = first.departedAt
    }
    return out
  }

  private startTrip(k: number, startAt: number): VehicleMotion {
    const motion = new VehicleMotion(this.trips[k]!.route, startAt, this.params, this.rng, this.trips[k]!.plannedStart)
    this.motions[k] = motion
    return motion
  }
}
