// Chains a vehicle's trips: trip k+1 leaves at its planned start, or as soon as trip k is over if that
// is later. Turns stop transitions into device events and keeps the TRUE times for the truth file.
// After the last trip the truck drives off (LEAVE_M back along the road it came by) before the
// device goes quiet: a real truck leaves the consignee's yard, and ReTrack confirms the final
// delivery on the departure from its fence.
import type { DeviceEventPayload } from '../../src/contracts/payloads.js'
import { stopEvents } from '../device-events.js'
import type { PlannedStop, TripPlan } from '../plan.js'
import type { Rng } from '../random.js'
import type { MotionParams } from './params.js'
import { reverseRoute, type Route } from '../routes.js'
import { VehicleMotion, type StopVisit, type VehicleState } from './vehicle.js'

export type VehicleTrip = TripPlan & { shipmentId?: string | undefined, reference?: string | undefined }

export interface TripTruth {
  trip: number
  route: string
  shipmentId?: string | undefined
  reference?: string | undefined
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

export class TripRunner {
  private k = 0
  private motion: VehicleMotion
  private readonly motions: VehicleMotion[] = []
  private readonly started: (number | null)[] = []
  private drivenBefore = 0
  /** the drive off after the last trip (its stop events are not the shipment's) */
  private leaving: VehicleMotion | null = null

  constructor(private readonly trips: VehicleTrip[], private readonly params: MotionParams, private readonly rng: Rng) {
    if (trips.length === 0) throw new Error('a vehicle needs at least one trip')
    this.motion = this.startTrip(0, trips[0]!.plannedStart)
  }

  /** Sim ms when the truck had driven off after its last trip, or null while driving. */
  get finishedAt(): number | null {
    return this.leaving?.finishedAt ?? null
  }

  get distanceDrivenM() { return this.drivenBefore + this.motion.distanceM + (this.leaving?.distanceM ?? 0) }

  /** Advances to t; returns the device events that became due on the way, in event-time order. */
  advanceTo(t: number): DeviceEventPayload[] {
    const out: DeviceEventPayload[] = []
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
      this.motion = this.startTrip(this.k, Math.max(this.trips[this.k]!.plannedStart, done))
    }
    return out.sort((a, b) => Number(a.ts) - Number(b.ts))
  }

  state(): VehicleState { return (this.leaving ?? this.motion).state() }

  truth(): TripTruth[] {
    return this.trips.map((trip, k) => {
      const visits: StopVisit[] | undefined = this.motions[k]?.visits
      return {
        trip: k, route: trip.route.name, shipmentId: trip.shipmentId, reference: trip.reference, plannedStart: trip.plannedStart,
        startedAt: this.started[k] ?? null,
        finishedAt: ms(visits?.[visits.length - 1]?.departedAt),
        stops: trip.stops.map((s, i) => ({ ...s, arrivedAt: ms(visits?.[i]?.arrivedAt), departedAt: ms(visits?.[i]?.departedAt) })),
      }
    })
  }

  private startTrip(k: number, startAt: number): VehicleMotion {
    const motion = new VehicleMotion(this.trips[k]!.route, startAt, this.params, this.rng)
    this.motions[k] = motion
    return motion
  }
}
