// Wall-clock sweep for device_offline: every `everyS`, devices with no activity for `afterS` are
// marked offline in their asset state. The mark goes through the asset's queue and compare-and-
// set, so when several nodes sweep at once exactly one of them reports it.
//
// A silent asset's ETAs would otherwise stay what its last fix made them, on time long after the
// clock passed them: the sweep revises them (features/eta-silent.ts, reviseSilent) when it marks the
// device offline, and again whenever the revision said it could next change something (the clock
// passing the next ETA, an at-risk boundary or a window end), until the device reports again. That
// watch is this node's memory: a handful of revisions per silent asset, no scan of every asset;
// a restart forgets it (the next fix recomputes the ETAs anyway).
import type { Logger } from '../logger.js'
import type { AssetPipeline } from './pipeline.js'
import type { AssetKey, PresenceStore } from './ports.js'
import { offlineOf } from './detectors/device-online.js'
import { reviseSilent } from './features/eta-silent.js'

export interface OfflineSettings {
  afterS: number
  everyS: number
  /** ETA_AT_RISK_S and ETA_THRESHOLD_S, for revising the ETAs of a silent asset */
  eta: { atRiskS: number, thresholdS: number }
}

/** silent assets whose ETAs are waiting for their next revision, at most (about 100 bytes each) */
const MAX_WATCHED = 200_000

export class OfflineSweep {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null
  /** silent assets with ETAs to revise, and when (wall clock, ms) */
  private readonly watched = new Map<string, { key: AssetKey, dueAt: number }>()

  constructor(
    private readonly presence: PresenceStore,
    private readonly pipeline: AssetPipeline,
    private readonly settings: OfflineSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => { void this.sweep() }, this.settings.everyS * 1000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One pass; returns how many devices it reported offline. */
  sweep(): Promise<number> {
    this.running ??= this.pass().catch((err: unknown) => { this.log.error({ err }, 'offline sweep failed'); return 0 }).finally(() => { this.running = null })
    return this.running
  }

  /** Silent assets waiting for an ETA revision (for tests and diagnostics). */
  get watching(): number { return this.watched.size }

  private async pass(): Promise<number> {
    await this.presence.flush()
    const now = this.now()
    const reported = await this.markOffline(now)
    await this.revise(now)
    return reported
  }

  private async markOffline(now: number): Promise<number> {
    const silent = await this.presence.silentSince(now - this.settings.afterS * 1000, 5000)
    if (silent.length === 0) return 0
    const seen = await this.presence.get(silent)
    let reported = 0
    await Promise.all(silent.map((key) => {
      let dueAt: number | null = null
      return this.pipeline.update(key, (next, emit, asset, effect) => {
        const offline = offlineOf(next.features)
        // another node reported it: its ETAs are still this node's to watch (the revision is idempotent)
        const eta = reviseSilent(next.features, asset, key.deviceId, now, this.settings.eta, emit, effect)
        dueAt = eta.dueAt
        if (offline.active) return eta.changed
        const presence = seen.get(key.deviceId)
        const lastSeenAt = presence?.lastSeenAt ?? null
        // stamped in the device's event time (its last fix + the limit), so that a device replaying
        // old data keeps a timeline in order; never later than now
        const last = next.lastFix?.ts ?? lastSeenAt ?? now
        const ts = Math.min(now, last + this.settings.afterS * 1000)
        offline.active = true
        offline.since = ts
        reported++
        emit({
          type: 'device_offline', ts, tenantId: key.tenantId, deviceId: key.deviceId, vehicleId: asset.vehicleId,
          shipmentId: asset.shipment?.id ?? null, dedupeKey: `device_offline:${key.deviceId}:${last}`,
          payload: { lastSeenAt: lastSeenAt ? new Date(lastSeenAt).toISOString() : null, lastFixAt: next.lastFix ? new Date(next.lastFix.ts).toISOString() : null, afterS: this.settings.afterS },
        })
        return true
      }).then(() => { this.watch(key, dueAt) })
    }))
    await this.presence.settle(silent)
    return reported
  }

  /** Revises the ETAs of the watched assets whose time has come; one that reported again meanwhile is dropped. */
  private async revise(now: number): Promise<void> {
    const due = [...this.watched.values()].filter((w) => w.dueAt <= now)
    await Promise.all(due.map(({ key }) => {
      let dueAt: number | null = null
      return this.pipeline.update(key, (next, emit, asset, effect) => {
        // online again: its fixes keep the ETAs up to date
        if (!offlineOf(next.features).active) return false
        const eta = reviseSilent(next.features, asset, key.deviceId, now, this.settings.eta, emit, effect)
        dueAt = eta.dueAt
        return eta.changed
      }).then(() => { this.watch(key, dueAt) })
    }))
  }

  private watch(key: AssetKey, dueAt: number | null) {
    const id = `${key.tenantId}:${key.deviceId}`
    if (dueAt === null) this.watched.delete(id)
    else if (this.watched.has(id) || this.watched.size < MAX_WATCHED) this.watched.set(id, { key: { tenantId: key.tenantId, deviceId: key.deviceId }, dueAt })
  }
}
