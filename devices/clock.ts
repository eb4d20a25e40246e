// The simulated clock. Readings carry SIMULATED event time, and ReTrack drops fixes more than five
// minutes in the future, so simulated time must never run ahead of the wall clock. The clock is
// anchored in the past so that the planned horizon ends about "now":
//   simStart = wallStart − horizon × (1 − 1/speedup)
//   simNow   = min(simStart + (wall − wallStart) × speedup, wall)
// With horizon = everything the run will simulate, simulated time catches up with the wall clock
// exactly when the run ends. If the run lasts longer than planned, the clamp holds simulated time at
// the wall clock, i.e. the rest runs in real time rather than in the future.
//
// A run plans (and creates its shipments) against a clock anchored at the planning moment, but its
// simulated time only starts moving once the fleet has connected (start()): until then it stands
// at simStart, so neither creating shipments nor the connection ramp uses up simulated time. Starting
// later than planned only leaves simulated time further behind the wall clock, never ahead of it.

export type WallClock = () => number

export class SimClock {
  private startedAt: number | null

  /** `started` false: simulated time stands at simStart until start() (see above). */
  constructor(
    private readonly plannedWallStart: number,
    readonly simStart: number,
    readonly speedup: number,
    private readonly wall: WallClock = Date.now,
    started = true,
  ) {
    if (!(speedup >= 1)) throw new Error('speedup must be >= 1')
    this.startedAt = started ? plannedWallStart : null
  }

  /** Wall ms at which simulated time started moving from simStart (the planned start until then). */
  get wallStart(): number { return this.startedAt ?? this.plannedWallStart }

  get started(): boolean { return this.startedAt !== null }

  /** Lets simulated time move from simStart, now (once; later calls change nothing). */
  start(at: number = this.wall()) {
    this.startedAt ??= Math.max(at, this.plannedWallStart)
  }

  /** The same anchor, standing still until start(). */
  held(): SimClock {
    return new SimClock(this.plannedWallStart, this.simStart, this.speedup, this.wall, false)
  }

  /**
   * A clock whose `horizonMs` of simulated time ends at the wall clock's "now" when it runs out. With
   * `notBefore` (the end of an earlier run of the same devices) it starts no earlier than that, even
   * if the horizon then does not fit before "now": ReTrack drops readings at or before a device's last
   * fix as late, so an earlier start would make the whole run worthless. It then catches up with the
   * wall clock sooner and runs in real time from there (the clamp).
   */
  static anchored(options: { wallStart: number, horizonMs: number, speedup: number, notBefore?: number | undefined, wall?: WallClock }): SimClock {
    const { wallStart, horizonMs, speedup, notBefore } = options
    let simStart = Math.floor(wallStart - horizonMs * (1 - 1 / speedup))
    // never later than the wall clock: simulated time cannot run ahead of it anyway
    if (notBefore !== undefined && notBefore > simStart) simStart = Math.min(Math.ceil(notBefore), wallStart)
    return new SimClock(wallStart, simStart, speedup, options.wall)
  }

  /** Simulated epoch ms, never later than the wall clock. */
  now(): number {
    const wall = this.wall()
    return Math.min(this.startedAt === null ? this.simStart : this.unclamped(wall), wall)
  }

  /** True once the run outlived its planned horizon and simulated time is held at the wall clock. */
  clamped(): boolean {
    const wall = this.wall()
    return this.startedAt !== null && this.unclamped(wall) > wall
  }

  /** Wall ms at which simulated time reaches `simMs` (the clamp aside). */
  wallAt(simMs: number): number {
    return this.wallStart + (simMs - this.simStart) / this.speedup
  }

  private unclamped(wall: number) {
    return this.simStart + (wall - this.wallStart) * this.speedup
  }
}
