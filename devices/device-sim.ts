// One virtual tracker: on every scheduler tick it produces the fixes that fell due in simulated time,
// publishes them through its port (or buffers them while offline), adds device events, and injects
// the faults it was asked for. It knows nothing about MQTT: the port does the I/O, which keeps this
// testable with a fake port.
import type { DeviceEventPayload, Reading } from '../src/contracts/payloads.js'
import type { DevicePublishChannel } from '../src/contracts/topics.js'
import { linkFault, type FaultParams } from './faults/faults.js'
import { randomMalformed } from './faults/malformed.js'
import { OfflineBuffer } from './faults/offline-buffer.js'
import type { TripRunner } from './motion/trips.js'
import { chance, type Rng } from './random.js'
import { buildReading, type ReadingSensors } from './reading.js'
import { FixSummary } from './fix-summary.js'

export interface DevicePort {
  readonly online: boolean
  /** true if a publish now would not exceed the fleet's rate limit */
  canPublish(): boolean
  /** hands a payload to the connection; `done(false)` if it was not acknowledged (connection lost) */
  publish(channel: DevicePublishChannel, payload: string | Buffer, done?: (ok: boolean) => void): void
  disconnect(kind: 'drop' | 'gap' | 'reconnect'): void
}

export interface DeviceSimOptions {
  deviceId: string
  intervalMs: number
  seqBase: number
  faults: FaultParams
  sensors: ReadingSensors
  rng: Rng
  /** most fixes one device produces per tick, so one far-behind device cannot starve the rest */
  maxFixesPerTick?: number
  bufferCapacity?: number
  /** most entries in one backlog batch: ReTrack dead-letters a batch over its MQTT_MAX_BATCH whole */
  maxBatch?: number
}

/** Default backlog batch: half of ReTrack's default MQTT_MAX_BATCH (1,000). */
export const DEFAULT_MAX_BATCH = 500

export class DeviceSim {
  readonly summary = new FixSummary()
  /** next fix time (sim ms); null until the first connection */
  nextFixAt: number | null = null
  /** sim ms before which the device stays offline (coverage gap) */
  offlineUntil = Number.NEGATIVE_INFINITY
  done = false
  private seq: number
  private readonly readings: OfflineBuffer<Reading>
  private readonly events: OfflineBuffer<DeviceEventPayload>
  private upcoming: DeviceEventPayload[] = []

  constructor(readonly options: DeviceSimOptions, readonly trips: TripRunner) {
    this.seq = options.seqBase
    this.readings = new OfflineBuffer(options.bufferCapacity ?? 2000)
    this.events = new OfflineBuffer(options.bufferCapacity ?? 2000)
  }

  get deviceId() { return this.options.deviceId }
  get buffered() { return this.readings.size + this.events.size }
  /** readings and events produced but never sent (yet): what is left in the offline buffers */
  get unsent() { return { readings: this.readings.size, events: this.events.size } }

  /** Wants a connection unless a coverage gap is on, or it is done and has nothing left to send. */
  wantsConnection(simNow: number): boolean {
    return (!this.done || this.buffered > 0) && simNow >= this.offlineUntil
  }

  /** Done and nothing left in the backlog: the fleet may disconnect it. */
  get finished() { return this.done && this.buffered === 0 }

  /** Called on every (re)connection: the first one starts the fix schedule. */
  connected(simNow: number) {
    this.nextFixAt ??= simNow
  }

  /** Does what is due at simNow; returns false if the rate limit stopped it (the fleet then stops the tick). */
  step(simNow: number, port: DevicePort): boolean {
    if (this.nextFixAt === null) return true
    if (port.online && !this.flush(port)) return false
    if (this.done) return true
    const max = this.options.maxFixesPerTick ?? 10
    for (let n = 0; n < max && this.nextFixAt <= simNow && !this.done; n++) {
      if (port.online && !port.canPublish()) return false
      this.fix(this.nextFixAt, port)
      this.nextFixAt += this.options.intervalMs
    }
    return true
  }

  private fix(ts: number, port: DevicePort) {
    const { faults, rng } = this.options
    // the first reading: the truck is there from now on (its trips never start before it)
    this.trips.begin(ts)
    const first = this.summary.firstTs ?? ts
    for (const event of this.trips.advanceTo(ts)) {
      // never stamped before the device's first reading: a timeline starting there would miss it
      if (Number(event.ts) < first) event.ts = first
      this.upcoming.push(event)
    }
    const { reading, jumped } = buildReading(this.trips.state(), ts, this.seq++, this.options.sensors, faults, rng)
    this.summary.generated(reading, jumped, this.trips.distanceDrivenM)
    const finished = this.trips.finishedAt
    if (finished !== null && ts >= finished) this.done = true

    const fault = port.online ? linkFault(rng, faults) : null
    if (fault === 'gap') {
      // coverage lost before this fix: it is the first one kept for the batch
      this.offlineUntil = ts + faults.gapS * 1000
      this.summary.gaps++
      port.disconnect('gap')
    }
    if (port.online) this.send(reading, port)
    else this.readings.push(reading)
    this.releaseEvents(ts, port)
    if (fault === 'drop' || fault === 'reconnect') {
      this.summary[fault === 'drop' ? 'drops' : 'reconnects']++
      port.disconnect(fault)
    }
  }

  private send(reading: Reading, port: DevicePort) {
    const { faults, rng } = this.options
    if (chance(rng, faults.malformedPct / 100)) {
      const bad = randomMalformed(reading, rng)
      this.summary.malformed(bad.kind)
      port.publish('telemetry', bad.payload)
      return
    }
    const payload = JSON.stringify(reading)
    this.summary.published++
    port.publish('telemetry', payload, (ok) => { if (!ok) this.requeue([reading]) })
    // a duplicate is the same bytes again: same seq, same ts (e.g. a retry after a lost PUBACK)
    if (chance(rng, faults.dupProb) && port.canPublish()) {
      this.summary.duplicates++
      port.publish('telemetry', payload)
    }
  }

  /** Device events whose time has come, in order; buffered like readings while offline. */
  private releaseEvents(ts: number, port: DevicePort) {
    if (this.upcoming.length === 0) return
    const due = this.upcoming.filter((e) => Number(e.ts) <= ts)
    if (due.length === 0) return
    this.upcoming = this.upcoming.filter((e) => Number(e.ts) > ts)
    for (const event of due) {
      event.seq = this.seq++
      this.summary.events++
      if (port.online) port.publish('events', JSON.stringify(event), (ok) => { if (!ok) this.events.push(event) })
      else this.events.push(event)
    }
  }

  /**
   * After a reconnect: the backlog goes out as JSON arrays of at most `maxBatch` entries per channel,
   * oldest first, one publish each (so their order on the connection is event-time order). Returns
   * false if the rate limit stopped it; the rest stays buffered for the next tick.
   */
  private flush(port: DevicePort): boolean {
    const maxBatch = this.options.maxBatch ?? DEFAULT_MAX_BATCH
    for (const [channel, buffer] of [['telemetry', this.readings], ['events', this.events]] as const) {
      // entries whose publish fails at once go back into the buffer: only what is there now goes out
      for (let chunks = Math.ceil(buffer.size / maxBatch); chunks > 0 && buffer.size > 0 && port.online; chunks--) {
        if (!port.canPublish()) return false
        const batch: (Reading | DeviceEventPayload)[] = buffer.take(maxBatch)
        if (channel === 'telemetry') this.summary.batch(batch.length)
        port.publish(channel, JSON.stringify(batch), (ok) => {
          if (ok) return
          if (channel === 'telemetry') this.requeue(batch as Reading[])
          else this.events.requeue(batch as DeviceEventPayload[])
        })
      }
    }
    return true
  }

  private requeue(readings: Reading[]) {
    this.summary.requeued += readings.length
    this.readings.requeue(readings)
  }

  /** Finishes the truth of the trips up to `simNow` even if the device never got online. */
  settle(simNow: number) {
    this.trips.advanceTo(simNow)
  }

  get bufferOverflow() { return this.readings.overflowed + this.events.overflowed }
}
