// One vehicle driving one trip: waits for its departure, drives stop to stop (braking into each stop
// that has a dwell), dwells, leaves. The trajectory is integrated in pieces whose length depends only
// on the vehicle's own state (1 s steps, 5 s while cruising steadily, whole dwells), never on when it
// is asked, so the same seed gives the same truth whatever the fix interval or scheduling was.
// A query inside a piece interpolates it (constant acceleration). Arrival is the exact moment the
// vehicle reaches the stop's point on the line, solved inside the step; that is what the truth reports.
import { uniform, type Rng } from '../random.js'
import type { Route } from '../routes.js'
import { cruiseFor, type MotionParams } from './params.js'
import { approachSpeed, SpeedTarget, stoppingCap } from './speed.js'

export type Phase = 'waiting' | 'driving' | 'dwelling' | 'done'

export interface StopVisit { arrivedAt: number | null, departedAt: number | null }

export interface MotionEvent { kind: 'arrived' | 'departed', stop: number, t: number }

export interface VehicleState { lat: number, lon: number, heading: number, speed: number, phase: Phase, t: number, distanceM: number }

/**
 * A stretch of constant acceleration (or standing still) from t0 to t1 (ms). The end state d1/v1 is
 * stored exactly rather than recomputed from times: epoch-ms doubles cannot hold sub-microsecond
 * steps, and an arrival must land exactly on the stop.
 */
interface Piece { t0: number, t1: number, d0: number, v0: number, a: number, d1: number, v1: number, kind: Phase }

/** Longest step while cruising steadily, seconds. */
const CRUISE_STEP_S = 5

export class VehicleMotion {
  /** the time the vehicle was last advanced to (sim ms; -Infinity before the first call) */
  now: number
  private piece: Piece
  private readonly visitTimes: StopVisit[]
  private pending: MotionEvent[] = []
  private nextStop = 0
  private lastAim = Number.NaN
  private segment = 0
  private heading: number
  private readonly target: SpeedTarget

  /**
   * The vehicle stands at the start of the route until `startAt` (at the first stop, when that lies
   * at the start). `holdUntil`: it does not leave the first stop before this time plus the stop's
   * dwell, e.g. a truck that reached its depot before its planned departure.
   */
  constructor(readonly route: Route, readonly startAt: number, private readonly params: MotionParams, private readonly rng: Rng,
    private readonly holdUntil = Number.NEGATIVE_INFINITY) {
    this.now = Number.NEGATIVE_INFINITY
    this.visitTimes = route.stops.map(() => ({ arrivedAt: null, departedAt: null }))
    this.target = new SpeedTarget(cruiseFor(params, route.maxSpeedKmh), params, rng)
    this.heading = route.path.pointAt(0).heading
    this.piece = { t0: Number.NEGATIVE_INFINITY, t1: startAt, d0: 0, v0: 0, a: 0, d1: 0, v1: 0, kind: 'waiting' }
  }

  /** End of the trip (departure from the last stop), once the vehicle has been advanced that far. */
  get finishedAt(): number | null {
    const last = this.visits[this.visits.length - 1]?.departedAt
    return last ?? null
  }

  /** True stop times, as far as the vehicle has been advanced (nothing from its look-ahead). */
  get visits(): StopVisit[] {
    const seen = (t: number | null) => (t !== null && t <= this.now ? t : null)
    return this.visitTimes.map((v) => ({ arrivedAt: seen(v.arrivedAt), departedAt: seen(v.departedAt) }))
  }

  get phase(): Phase { return this.piece.kind }

  /** Metres along the route at `now`. */
  get distanceM(): number {
    const { t0, d0, v0, a, d1, kind } = this.piece
    if (kind !== 'driving') return d0
    const tau = (this.now - t0) / 1000
    return Math.min(d1, d0 + v0 * tau + 0.5 * a * tau * tau)
  }

  /** Moves to time `tMs` (sim ms, never backwards); returns the stop transitions on the way, in order. */
  advanceTo(tMs: number): MotionEvent[] {
    if (tMs > this.now) this.now = tMs
    while (this.piece.t1 <= this.now && this.piece.kind !== 'done') this.nextPiece()
    const due = this.pending.filter((e) => e.t <= this.now)
    if (due.length > 0) this.pending = this.pending.filter((e) => e.t > this.now)
    return due
  }

  state(): VehicleState {
    const { t0, v0, a, kind } = this.piece
    const speed = kind === 'driving' ? Math.max(0, v0 + (a * (this.now - t0)) / 1000) : 0
    const distanceM = this.distanceM
    const p = this.route.path.pointAt(distanceM, this.segment)
    this.segment = p.segment
    // parked vehicles keep the heading they arrived with
    if (speed > 0.5) this.heading = p.heading
    return { lat: p.lat, lon: p.lon, heading: this.heading, speed, phase: kind, t: this.now, distanceM }
  }

  /** Appends the piece after the current one (and the events at its start). */
  private nextPiece() {
    const prev = this.piece
    const t = prev.t1
    const d = prev.d1
    const v = prev.v1
    if (prev.kind === 'dwelling') { this.depart(t, d); return }
    if (this.arriveIfAt(t, d, v)) return
    this.driveStep(t, d, v)
  }

  private driveStep(t: number, d: number, v: number) {
    const p = this.params
    const stop = this.route.stops[this.nextStop]!
    const remaining = stop.distanceM - d
    const stopping = stop.plannedDwellS > 0
    const steady = !stopping || remaining > (v * v) / (2 * p.decelMps2) + v * CRUISE_STEP_S * 2
    const dt = steady && Math.abs(v - this.lastAim) < 1e-9 ? CRUISE_STEP_S : p.stepS
    const aim = this.lastAim = this.target.at(t, d, dt)
    const desired = stopping ? Math.min(aim, stoppingCap(remaining, p.decelMps2, p.approachMps)) : aim
    const v1 = approachSpeed(v, desired, dt, p.accelMps2, p.brakeMps2)
    const a = (v1 - v) / dt
    if (((v + v1) / 2) * dt < remaining) {
      this.piece = { t0: t, t1: t + dt * 1000, d0: d, v0: v, a, d1: d + ((v + v1) / 2) * dt, v1, kind: 'driving' }
      return
    }
    // the stop is reached inside this step: solve v·τ + ½·a·τ² = remaining for τ
    const tau = Math.abs(a) < 1e-9 ? remaining / v : (-v + Math.sqrt(Math.max(0, v * v + 2 * a * remaining))) / a
    const tauS = Math.min(Math.max(tau, 0), dt)
    this.piece = { t0: t, t1: t + tauS * 1000, d0: d, v0: v, a, d1: stop.distanceM, v1: v + a * tauS, kind: 'driving' }
  }

  /** At the end of a step that reached the next stop: record the arrival and start the dwell. */
  private arriveIfAt(t: number, d: number, v: number): boolean {
    const stop = this.route.stops[this.nextStop]
    if (!stop || d < stop.distanceM) return false
    this.visitTimes[this.nextStop]!.arrivedAt = t
    this.pending.push({ kind: 'arrived', stop: this.nextStop, t })
    const from = this.nextStop === 0 ? Math.max(t, this.holdUntil) : t
    if (stop.plannedDwellS > 0 || from > t) {
      const jitter = this.params.dwellJitter
      const dwellMs = stop.plannedDwellS > 0 ? stop.plannedDwellS * uniform(this.rng, 1 - jitter, 1 + jitter) * 1000 : 0
      this.piece = { t0: t, t1: from + dwellMs, d0: stop.distanceM, v0: 0, a: 0, d1: stop.distanceM, v1: 0, kind: 'dwelling' }
      return true
    }
    // a drive-through stop: record it and carry on at the same speed
    this.visitTimes[this.nextStop]!.departedAt = t
    this.pending.push({ kind: 'departed', stop: this.nextStop, t })
    this.nextStop++
    if (this.nextStop >= this.route.stops.length) this.finish(t, stop.distanceM)
    else this.driveStep(t, stop.distanceM, v)
    return true
  }

  private depart(t: number, d: number) {
    this.visitTimes[this.nextStop]!.departedAt = t
    this.pending.push({ kind: 'departed', stop: this.nextStop, t })
    this.nextStop++
    if (this.nextStop >= this.route.stops.length) this.finish(t, d)
    else this.driveStep(t, d, 0)
  }

  private finish(t: number, d: number) {
    this.piece = { t0: t, t1: Number.POSITIVE_INFINITY, d0: d, v0: 0, a: 0, d1: d, v1: 0, kind: 'done' }
  }
}
