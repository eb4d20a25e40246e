// One entry point for every transport (MQTT, HTTP, an external broker): decode and validate, drop
// bad fixes with a reason, write what is left durably (positions, device events, dead letters), and
// only then resolve, which is when the MQTT PUBACK or the HTTP 202 goes out. The kept fixes enter
// the per-asset pipeline at the same time as their write, not after its commit: the live state is
// not held back by the database's fsync (that wait was most of publish→state latency), and a
// redelivery is judged by the pipeline itself (at or behind the asset's last fix: duplicate/late),
// so it never moves state or fires an event twice. A fix the database then fails to store was
// never acknowledged: the device sends it again and the pipeline drops it as a duplicate. A fix
// the pipeline cannot process yet (Redis or the database away) waits in its backlog, retried, and
// past PIPELINE_MAX_BACKLOG the acknowledgements wait with it.
import type { Fix } from '../contracts/payloads.js'
import type { AssetPipeline } from '../core/pipeline.js'
import type { PresenceStore } from '../core/ports.js'
import type { DropReason, FilterSettings } from '../core/stages/stage.js'
import { statelessStages, timeChecks } from '../core/stages/stateless.js'
import type { DeadLetter } from '../db/dead-letters.js'
import type { NewTrackingEvent, StoredTrackingEvent } from '../db/tracking-events.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { decodeEvents, decodeStatus, decodeTelemetry, type Rejection } from './decode.js'

export interface DeviceIdentity {
  tenantId: string
  tenantSlug: string
  deviceId: string
  vehicleId: string | null
  /** the live connection, for presence (absent over HTTP) */
  connection?: string
}

export interface IngestSinks {
  positions: { write(fixes: Fix[]): Promise<boolean[]> }
  deviceEvents: { write(events: NewTrackingEvent[]): Promise<Array<StoredTrackingEvent | null>> }
  deadLetters: { write(letters: DeadLetter[]): Promise<unknown[]> }
}

export interface IngestOutcome {
  /** new fixes stored and handed to the pipeline, or new device events stored */
  accepted: number
  /** already stored (a redelivery): acknowledged, not applied again */
  duplicates: number
  dropped: Array<{ index?: number, reason: DropReason, detail?: string }>
  rejected: Rejection[]
}

export type Transport = 'mqtt' | 'http' | 'external'

/**
 * Nothing in the payload was usable: nothing stored or already stored, nothing a filter merely
 * dropped, and at least one element dead-lettered. Such a publish is withheld from subscribers;
 * over HTTP it is a 400.
 */
export const refusedEntirely = (outcome: IngestOutcome) =>
  outcome.accepted === 0 && outcome.duplicates === 0 && outcome.dropped.length === 0 && outcome.rejected.length > 0

/**
 * Drops that mean the device is misconfigured (a clock far off, epoch seconds sent for
 * milliseconds) rather than a receiver's ordinary noise: the reading would be lost without a trace
 * but a counter, so it is a rejection (`BAD_TIME`) like a schema error: dead-lettered with the
 * payload where an integrator can find it (GET /dead-letters), listed in `rejected`, and a payload
 * of nothing else is refused entirely (withheld from subscribers, a 400 over HTTP). A cold start's
 * 0,0 or a poor accuracy is noise: counted and listed in `dropped` only.
 */
const TIME_DROPS = new Set<DropReason>(['future', 'too_old'])
/** live connections that said `offline` on their status topic and are still sending: bounded */
const MAX_SILENCED = 10_000
const ignore = () => undefined

export interface IngestorDeps {
  sinks: IngestSinks
  pipeline: AssetPipeline
  presence: PresenceStore
  metrics: Metrics
  log: Logger
  settings: FilterSettings & { maxBatch: number, maxBacklog: number }
  now?: () => number
  /** device events after they are stored (published to the live stream and on MQTT for integrations) */
  onDeviceEvents?: (events: StoredTrackingEvent[]) => void
}

export class Ingestor {
  private readonly now: () => number
  /** connections whose device published `offline` on them: their next packet marks it online again */
  private readonly saidOffline = new Set<string>()

  constructor(private readonly deps: IngestorDeps) {
    this.now = deps.now ?? Date.now
  }

  async telemetry(who: DeviceIdentity, topic: string, payload: Buffer, transport: Transport): Promise<IngestOutcome> {
    const receivedAt = this.now()
    const decoded = decodeTelemetry(payload, who.tenantId, who.deviceId, receivedAt, this.deps.settings.maxBatch)
    const outcome: IngestOutcome = { accepted: 0, duplicates: 0, dropped: [], rejected: decoded.rejections }
    const kept: Fix[] = []
    decoded.items.forEach((fix, i) => {
      for (const stage of statelessStages) {
        const r = stage.check(fix, receivedAt, this.deps.settings)
        if (!r.ok) {
          const index = decoded.batch ? { index: decoded.indices[i]! } : {}
          this.deps.metrics.readingsDropped.inc({ reason: r.reason })
          if (TIME_DROPS.has(r.reason)) {
            if (outcome.rejected === decoded.rejections) outcome.rejected = [...decoded.rejections]
            outcome.rejected.push({ code: 'BAD_TIME', reason: badTimeReason(fix.ts, r.reason, r.detail), ...index })
          } else outcome.dropped.push({ ...index, reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) })
          return
        }
      }
      kept.push(fix)
    })
    const letters = outcome.rejected
    const stored = this.deps.sinks.positions.write(kept)
    // most messages have nothing to dead-letter: no second promise and no Promise.all for them
    const durable = letters.length === 0 ? stored
      : Promise.all([stored, this.deadLetter(who, topic, payload, letters)]).then(([fresh]) => fresh)
    // the pipeline retries what fails on I/O (Redis, the database) and logs and counts what it
    // gives up (a bug; fixes left at shutdown): nothing is left to say here, once per message
    if (kept.length > 0) this.deps.pipeline.submit(kept).catch(ignore)
    const fresh = await durable
    const newFixes = kept.filter((_, i) => fresh[i])
    outcome.accepted = newFixes.length
    outcome.duplicates = kept.length - newFixes.length
    const lastTs = newFixes.reduce((max, f) => Math.max(max, f.ts), -1)
    this.seen(who, receivedAt, lastTs >= 0 ? lastTs : undefined)
    // backpressure: when processing falls behind, the acknowledgement waits (the reading is
    // already stored), so publishers slow down instead of the backlog growing without bound
    const { maxBacklog } = this.deps.settings
    if (kept.length > 0 && this.deps.pipeline.backlog > maxBacklog) await this.deps.pipeline.below(maxBacklog / 2)
    if (outcome.dropped.length > 0) this.deps.log.debug({ device: who.deviceId, transport, dropped: outcome.dropped }, 'fixes dropped')
    return outcome
  }

  async events(who: DeviceIdentity, topic: string, payload: Buffer, _transport: Transport): Promise<IngestOutcome> {
    const receivedAt = this.now()
    const decoded = decodeEvents(payload, who.tenantId, who.deviceId, this.deps.settings.maxBatch)
    const letters = [...decoded.rejections]
    // the time checks readings get: an event stamped in seconds or by a clock years off would sit
    // at the top or the bottom of every feed for good, outside any shipment's timeline
    const timely = decoded.items.filter((e, i) => {
      for (const check of timeChecks) {
        const r = check(e.ts, receivedAt, this.deps.settings)
        if (r.ok) continue
        const index = decoded.batch ? { index: decoded.indices[i]! } : {}
        letters.push({ code: 'BAD_TIME', reason: badTimeReason(e.ts, r.reason, r.detail), ...index })
        this.deps.metrics.readingsDropped.inc({ reason: r.reason })
        return false
      }
      return true
    })
    const rows: NewTrackingEvent[] = timely.map((e) => ({
      tenantId: e.tenantId, deviceId: e.deviceId, vehicleId: who.vehicleId, type: e.type, ts: e.ts, source: 'device',
      payload: { ...e.data, ...(e.lat !== undefined && e.lon !== undefined ? { lat: e.lat, lon: e.lon } : {}), ...(e.seq !== undefined ? { seq: e.seq } : {}) },
      dedupeKey: `dev:${e.deviceId}:${e.type}:${e.ts}:${e.seq ?? ''}`,
    }))
    const [stored] = await Promise.all([this.deps.sinks.deviceEvents.write(rows), this.deadLetter(who, topic, payload, letters)])
    const fresh = stored.filter((s): s is StoredTrackingEvent => s !== null)
    this.seen(who, receivedAt)
    if (fresh.length > 0) this.deps.onDeviceEvents?.(fresh)
    return { accepted: fresh.length, duplicates: rows.length - fresh.length, dropped: [], rejected: letters }
  }

  async status(who: DeviceIdentity, topic: string, payload: Buffer): Promise<IngestOutcome> {
    const status = decodeStatus(payload)
    if ('code' in status) {
      await this.deadLetter(who, topic, payload, [status])
      return { accepted: 0, duplicates: 0, dropped: [], rejected: [status] }
    }
    const at = this.now()
    const connection = who.connection
    if (status.state === 'offline') {
      // scoped to this connection: the Last Will of a connection already replaced (the device
      // reconnected, maybe to another node) must not mark the new one offline
      await this.deps.presence.disconnected(who, connection ?? null, at)
      if (connection) this.silence(connection)
    } else if (connection) {
      this.saidOffline.delete(connection)
      await this.deps.presence.connected(who, connection, at)
    } else this.deps.presence.seen(who, at)
    return { accepted: 1, duplicates: 0, dropped: [], rejected: [] }
  }

  /** Activity; a device that said `offline` and keeps sending on the same connection is online after all. */
  private seen(who: DeviceIdentity, at: number, fixTs?: number): void {
    const connection = who.connection
    if (connection && this.saidOffline.size > 0 && this.saidOffline.delete(connection)) {
      this.deps.presence.connected(who, connection, at).catch((err: unknown) => this.deps.log.warn({ err, device: who.deviceId }, 'presence update failed'))
    }
    this.deps.presence.seen(who, at, fixTs)
  }

  private silence(connection: string): void {
    // oldest first out: a connection that said offline and then closed never sends again
    if (this.saidOffline.size >= MAX_SILENCED) this.saidOffline.delete(this.saidOffline.values().next().value!)
    this.saidOffline.add(connection)
  }

  private async deadLetter(who: DeviceIdentity, topic: string, payload: Buffer, rejections: Rejection[]): Promise<void> {
    if (rejections.length === 0) return
    for (const r of rejections) this.deps.metrics.deadLetters.inc({ code: r.code })
    // one row per code, each naming its own elements: a batch with a schema error and a reading
    // stamped in seconds is found under `code=SCHEMA` and under `code=BAD_TIME`
    const byCode = new Map<string, Rejection[]>()
    for (const r of rejections) byCode.set(r.code, [...byCode.get(r.code) ?? [], r])
    const letters: DeadLetter[] = []
    for (const [code, same] of byCode) {
      const joined = rejections.length === 1 && same[0]!.index === undefined
        ? same[0]!.reason
        : `${same.length} element(s) rejected: ${same.slice(0, 10).map((r) => `[${r.index}] ${r.reason}`).join('; ')}`
      // a reason can quote the payload (JSON.parse's message, a key in a schema path); PostgreSQL's
      // text refuses U+0000, and one refused row would fail the whole dead-letter batch
      const reason = joined.replaceAll('\u0000', '\\u0000')
      this.deps.log.info({ device: who.deviceId, topic, code, reason }, 'payload dead-lettered')
      letters.push({ tenantId: who.tenantId, deviceId: who.deviceId, topic, code, reason, payload })
    }
    await this.deps.sinks.deadLetters.write(letters)
  }
}

/** Why a reading or event was refused for its time, with the usual mistake named when it fits. */
function badTimeReason(ts: number, reason: DropReason, detail: string | undefined): string {
  const what = reason === 'future' ? 'in the future' : 'too old'
  // epoch seconds read as milliseconds land in January 1970
  const seconds = ts > 0 && ts < 100_000_000_000 ? '; is it in epoch seconds? ts must be epoch milliseconds or ISO 8601' : ''
  return `ts ${what}${detail ? ` (${detail})` : ''}${seconds}`
}
