// The fleet: one scheduler tick walks every device (connect bookkeeping, then due fixes under the
// global rate limit, round-robin so a saturated limit is shared fairly), prints progress, and ends
// the run when every device is finished or the wall-clock duration is over. The run begins with the
// connection phase: simulated time stands still (clock.ts) until every device's first connection
// attempt has settled (or CONNECT_PHASE_MAX_MS passed), so the ramp uses up no simulated time and
// --duration counts from when readings can flow.
import type { SimClock } from './clock.js'
import type { DeviceSim } from './device-sim.js'
import { backoffMs, type ConnectGate } from './net/connect-gate.js'
import type { DeviceLink } from './net/link.js'
import { uniform, type Rng } from './random.js'
import { Ticker } from './scheduler.js'
import { Progress, type FleetCounters } from './stats.js'

/** Most wall time one tick spends producing fixes; the rest of the tick interval is left for I/O. */
const TICK_BUDGET_MS = 50

/** Longest the clock waits for the fleet's first connection attempts; later devices join a running clock. */
export const CONNECT_PHASE_MAX_MS = 60_000

export interface FleetMember { sim: DeviceSim, link: DeviceLink, seen: boolean }

export interface FleetOptions {
  clock: SimClock
  counters: FleetCounters
  gate: ConnectGate<FleetMember>
  rng: Rng
  tickMs?: number
  progressS: number
  /** wall ms the run lasts once simulated time started (--duration) */
  durationMs?: number | undefined
  connectPhaseMaxMs?: number
  log: (line: string) => void
}

export class Fleet {
  readonly progress: Progress
  private readonly ticker: Ticker
  private cursor = 0
  private lastProgress = Date.now()
  private stopping = false
  /** kinds of connection problems already reported (each is reported once per run) */
  private readonly reported = new Set<string>()
  /** the first message of each kind of connection problem, in the order they happened */
  readonly problems: string[] = []
  private finish: (() => void) | undefined
  /** members whose first connection attempt has settled (connected, refused or failed) */
  private readonly attempted = new Set<FleetMember>()
  /** wall ms the run ends at anyway: set when simulated time starts */
  private deadline: number | undefined
  /** wall ms the run (its connection phase) began */
  startedAt = Date.now()
  allConnectedAt: number | null = null
  /** connections open when the run ended, before shutdown closed them */
  connectedAtEnd = 0

  constructor(readonly members: FleetMember[], private readonly options: FleetOptions) {
    this.progress = new Progress(options.counters)
    this.ticker = new Ticker(options.tickMs ?? 100, () => this.tick())
  }

  get everConnected() { return this.members.filter((m) => m.seen).length }

  /** Runs until every device is finished, the deadline passes, or stop() is called. */
  run(): Promise<void> {
    this.startedAt = Date.now()
    const done = new Promise<void>((resolve) => { this.finish = resolve })
    this.ticker.start()
    this.tick()
    return done
  }

  stop() {
    if (this.stopping) return
    this.stopping = true
    this.ticker.stop()
    void this.shutdown()
  }

  private tick() {
    const { clock, gate, counters } = this.options
    const simNow = clock.now()
    let allFinished = true
    for (const m of this.members) {
      if (!m.sim.finished) allFinished = false
      if (m.link.state === 'idle' && m.sim.wantsConnection(simNow)) {
        m.link.state = 'queued'
        gate.enqueue(m, m.link.attempts > 0 ? backoffMs(m.link.attempts, this.options.rng) : m.seen ? uniform(this.options.rng, 200, 1000) : 0)
      } else if (m.link.state === 'online' && m.sim.finished) {
        void m.link.close(simNow)
      }
    }
    gate.pump((m) => this.connect(m))
    if (counters.connected === this.members.length && this.allConnectedAt === null) this.allConnectedAt = Date.now()
    if (!clock.started) this.startClockWhenConnected()
    if (clock.started) this.stepDevices(simNow)
    if (this.options.progressS > 0 && Date.now() - this.lastProgress >= this.options.progressS * 1000) {
      this.lastProgress = Date.now()
      this.options.log(this.progressLine(simNow))
    }
    if (allFinished || (this.deadline !== undefined && Date.now() >= this.deadline)) this.stop()
  }

  /** Starts simulated time once every device has tried to connect, or the phase's limit is reached. */
  private startClockWhenConnected() {
    const now = Date.now()
    const limit = this.options.connectPhaseMaxMs ?? CONNECT_PHASE_MAX_MS
    if (this.attempted.size < this.members.length && now - this.startedAt < limit) return
    const { clock, counters } = this.options
    clock.start(now)
    if (this.options.durationMs !== undefined) this.deadline = now + this.options.durationMs
    const late = this.members.length - counters.connected
    this.options.log(`connected ${counters.connected}/${this.members.length} after ${((now - this.startedAt) / 1000).toFixed(1)} s: ` +
      `simulated time starts at ${new Date(clock.simStart).toISOString()}${late > 0 ? ` (the other ${late} start driving when they connect)` : ''}`)
  }

  /**
   * Steps devices round-robin from where the last tick stopped. A tick stops at the rate limit or
   * after TICK_BUDGET_MS of work, so CONNACKs, PUBACKs and timers are never starved by a big fleet.
   */
  private stepDevices(simNow: number) {
    const n = this.members.length
    const started = performance.now()
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n
      const m = this.members[i]!
      const stopped = !m.sim.step(simNow, m.link)
      if (stopped || ((k & 63) === 63 && performance.now() - started > TICK_BUDGET_MS)) { this.cursor = stopped ? i : (i + 1) % n; return }
    }
    this.cursor = (this.cursor + 1) % Math.max(1, n)
  }

  private connect(m: FleetMember) {
    const { gate, counters, clock, rng } = this.options
    if (this.stopping) { gate.settle(); m.link.state = 'idle'; return }
    // one attempt per device at a time: an entry that is no longer the link's queued attempt is stale
    if (m.link.state !== 'queued') { gate.settle(); return }
    m.link.attempts++
    m.link.connect((outcome, problem) => {
      gate.settle()
      this.attempted.add(m)
      if (outcome === 'online') {
        counters.connects++
        counters.peakConnected = Math.max(counters.peakConnected, counters.connected)
        m.seen = true
        const simNow = clock.now()
        m.sim.connected(simNow)
        m.link.announce(simNow)
        if (this.stopping) void m.link.close(simNow)
        return
      }
      // refused or failed: say why (once per kind: bad credentials or a wrong port do not heal by
      // retrying, the user has to hear about them), then back off before the next attempt
      if (problem) {
        const hint = outcome === 'refused' && /credentials|password|authori[sz]ed/i.test(problem.message) ? ' (check --tenant and the devices file)' : ''
        this.reportOnce(problem.kind, `device ${m.link.deviceId}: ${problem.message}${hint}`, 'retrying with backoff')
      }
      if (this.stopping) return
      m.link.state = 'queued'
      gate.enqueue(m, backoffMs(m.link.attempts, rng))
    }, (problem) => {
      if (!this.stopping) this.reportOnce(`lost: ${problem.kind}`, `device ${m.link.deviceId}: connection lost: ${problem.message}`, 'reconnecting')
    })
  }

  /** Logs `problem; next` the first time a problem of this kind happens; the summary lists `problem`. */
  private reportOnce(kind: string, problem: string, next: string) {
    if (this.reported.has(kind)) return
    this.reported.add(kind)
    this.problems.push(problem)
    this.options.log(`${problem}; ${next}`)
  }

  private progressLine(simNow: number): string {
    let buffered = 0
    let oldestDue = simNow
    for (const m of this.members) {
      buffered += m.sim.buffered
      if (!m.sim.done && m.sim.nextFixAt !== null && m.sim.nextFixAt < oldestDue) oldestDue = m.sim.nextFixAt
    }
    return this.progress.line({
      devices: this.members.length, waiting: this.options.gate.waiting + this.options.gate.connecting, buffered,
      lagS: (simNow - oldestDue) / 1000, simNow, clamped: this.options.clock.clamped(),
    })
  }

  private async shutdown() {
    const simNow = this.options.clock.now()
    this.connectedAtEnd = this.options.counters.connected
    await Promise.all(this.members.map((m) => m.link.close(simNow)))
    for (const m of this.members) m.sim.settle(simNow)
    this.progress.sampleRss()
    this.finish?.()
  }
}
