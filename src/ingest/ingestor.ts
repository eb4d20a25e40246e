// One entry point for every transport (MQTT, HTTP, an external broker): decode and validate, drop
// bad fixes with a reason, write what is left durably (positions, device events, dead letters), and
// only then resolve, which is when the MQTT PUBACK or the HTTP 202 goes out. The kept fixes enter
// the per-asset pipeline at the same time as their write, not after its commit: the live state is
// not held back by the database's fsync (that wait was most of publish→state latency), and a
// redelivery is judged by the pipeline itself (at or behind the asset's last fix: duplicate/late),
// so it never moves state or fires an event twice. A fix the database then fails to store was
// never acknowledged: the device sends it again and the pipeline drops it as a duplicate.
import type { Fix } from '../contracts/payloads.js'
import type { AssetPipeline } from '../core/pipeline.js'
import type { PresenceStore } from '../core/ports.js'
import type { DropReason, FilterSettings } from '../core/stages/stage.js'
import { statelessStages } from '../core/stages/stateless.js'
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
          outcome.dropped.push({ ...(decoded.batch ? { index: decoded.indices[i]! } : {}), reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) })
          this.deps.metrics.readingsDropped.inc({ reason: r.reason })
          return
        }
      }
      kept.push(fix)
    })
    const stored = this.deps.sinks.positions.write(kept)
    // most messages have nothing to dead-letter: no second promise and no Promise.all for them
    const durable = decoded.rejections.length === 0 ? stored
      : Promise.all([stored, this.deadLetter(who, topic, payload, decoded.rejections)]).then(([fresh]) => fresh)
    if (kept.length > 0) {
      this.deps.pipeline.submit(kept).catch((err: unknown) => this.deps.log.error({ err, device: who.deviceId }, 'pipeline failed'))
    }
    const fresh = await durable
    const newFixes = kept.filter((_, i) => fresh[i])
    outcome.accepted = newFixes.length
    outcome.duplicates = kept.length - newFixes.length
    const lastTs = newFixes.reduce((max, f) => Math.max(max, f.ts), -1)
    this.deps.presence.seen(who, receivedAt, lastTs >= 0 ? lastTs : undefined)
    // backpressure: when processing falls behind, the acknowledgement waits (the reading is
    // already stored), so publishers slow down instead of the backlog growing without bound
    const { maxBacklog } = this.deps.settings
    if (kept.length > 0 && this.deps.pipeline.backlog > maxBacklog) await this.deps.pipeline.below(maxBacklog / 2)
    if (outcome.dropped.length > 0) this.deps.log.debug({ device: who.deviceId, transport, dropped: outcome.dropped }, 'fixes dropped')
    return outcome
  }

  async events(who: DeviceIdentity, topic: string, payload: Buffer, _transport: Transport): Promise<IngestOutcome> {
    const decoded = decodeEvents(payload, who.tenantId, who.deviceId, this.deps.settings.maxBatch)
    const rows: NewTrackingEvent[] = decoded.items.map((e) => ({
      tenantId: e.tenantId, deviceId: e.deviceId, vehicleId: who.vehicleId, type: e.type, ts: e.ts, source: 'device',
      payload: { ...e.data, ...(e.lat !== undefined && e.lon !== undefined ? { lat: e.lat, lon: e.lon } : {}), ...(e.seq !== undefined ? { seq: e.seq } : {}) },
      dedupeKey: `dev:${e.deviceId}:${e.type}:${e.ts}:${e.seq ?? ''}`,
    }))
    const [stored] = await Promise.all([this.deps.sinks.deviceEvents.write(rows), this.deadLetter(who, topic, payload, decoded.rejections)])
    const fresh = stored.filter((s): s is StoredTrackingEvent => s !== null)
    this.deps.presence.seen(who, this.now())
    if (fresh.length > 0) this.deps.onDeviceEvents?.(fresh)
    return { accepted: fresh.length, duplicates: rows.length - fresh.length, dropped: [], rejected: decoded.rejections }
  }

  async status(who: DeviceIdentity, topic: string, payload: Buffer): Promise<IngestOutcome> {
    const status = decodeStatus(payload)
    if ('code' in status) {
      await this.deadLetter(who, topic, payload, [status])
      return { accepted: 0, duplicates: 0, dropped: [], rejected: [status] }
    }
    const at = this.now()
    if (status.state === 'offline') await this.deps.presence.disconnected(who, null, at)
    else if (who.connection) await this.deps.presence.connected(who, who.connection, at)
    else this.deps.presence.seen(who, at)
    return { accepted: 1, duplicates: 0, dropped: [], rejected: [] }
  }

  private async deadLetter(who: DeviceIdentity, topic: string, payload: Buffer, rejections: Rejection[]): Promise<void> {
    if (rejections.length === 0) return
    for (const r of rejections) this.deps.metrics.deadLetters.inc({ code: r.code })
    const joined = rejections.length === 1 && rejections[0]!.index === undefined
      ? rejections[0]!.reason
      : `${rejections.length} element(s) rejected: ${rejections.slice(0, 10).map((r) => `[${r.index}] ${r.reason}`).join('; ')}`
    // a reason can quote the payload (JSON.parse's message, a key in a schema path); PostgreSQL's
    // text refuses U+0000, and one refused row would fail the whole dead-letter batch
    const reason = joined.replaceAll('\u0000', '\\u0000')
    this.deps.log.info({ device: who.deviceId, topic, code: rejections[0]!.code, reason }, 'payload dead-lettered')
    await this.deps.sinks.deadLetters.write([{ tenantId: who.tenantId, deviceId: who.deviceId, topic, code: rejections[0]!.code, reason, payload }])
  }
}
