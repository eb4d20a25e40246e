// Recorded-style tracks for scenario tests: a vehicle drives straight legs at a speed and dwells
// at places, reporting every `intervalS` seconds of event time.
import { destination, haversineM, initialBearingDeg } from '../../src/geo/distance.js'
import type { Reading } from '../../src/contracts/payloads.js'

export type LonLat = [number, number]

export class Track {
  readonly fixes: Reading[] = []
  private here: LonLat
  private t: number

  constructor(start: LonLat, t0: number, private readonly intervalS = 10, private readonly extra: Partial<Reading> = {}) {
    this.here = start
    this.t = t0
  }

  get now(): number { return this.t }
  get position(): LonLat { return this.here }

  private push(at: LonLat, speed: number, over: Partial<Reading> = {}) {
    this.t += this.intervalS * 1000
    this.fixes.push({ ts: this.t, lon: at[0], lat: at[1], speed, accuracy: 8, ...this.extra, ...over })
  }

  /** Straight line to `to` at `speedMps`. */
  driveTo(to: LonLat, speedMps: number, over: Partial<Reading> = {}): this {
    const total = haversineM(this.here, to)
    const bearing = initialBearingDeg(this.here, to)
    const step = speedMps * this.intervalS
    const from = this.here
    for (let d = step; d < total; d += step) this.push(destination(from, bearing, d), speedMps, over)
    this.here = to
    this.push(to, speedMps, over)
    return this
  }

  /** Stays put for `seconds`, with a deterministic wobble of `wobbleM`. */
  dwell(seconds: number, wobbleM = 3, over: Partial<Reading> = {}): this {
    const n = Math.round(seconds / this.intervalS)
    for (let i = 0; i < n; i++) this.push(destination(this.here, (i * 137) % 360, wobbleM * ((i % 3) / 2)), 0, over)
    return this
  }

  /** Stays around `offsets` metres from `center` along `bearing` (one fix per offset). */
  hover(center: LonLat, bearing: number, offsets: number[]): this {
    for (const o of offsets) this.push(destination(center, bearing, o), 0.5)
    this.here = destination(center, bearing, offsets.at(-1) ?? 0)
    return this
  }
}

/** A point `metres` from `from` towards `bearing`. */
export const offset = (from: LonLat, bearing: number, metres: number): LonLat => destination(from, bearing, metres)
