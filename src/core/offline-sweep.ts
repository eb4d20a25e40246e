// Wall-clock sweep for device_offline: every `everyS`, devices with no activity for `afterS` are
// marked offline in their asset state. The mark goes through the asset's queue and compare-and-
// set, so when several nodes sweep at once exactly one of them reports it.
import type { Logger } from '../logger.js'
import type { AssetPipeline } from './pipeline.js'
import type { PresenceStore } from './ports.js'
import { offlineOf } from './detectors/device-online.js'

export interface OfflineSettings { afterS: number, everyS: number }

export class OfflineSweep {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<number> | null = null

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

  private async pass(): Promise<number> {
    await this.presence.flush()
    const now = this.now()
    const silent = await this.presence.silentSince(now - this.settings.afterS * 1000, 5000)
    if (silent.length === 0) return 0
    const seen = await this.presence.get(silent)
    let reported = 0
    await Promise.all(silent.map((key) => this.pipeline.update(key, (next, emit, asset) => {
      const offline = offlineOf(next.features)
      if (offline.active) return false
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
    })))
    await this.presence.settle(silent)
    return reported
  }
}
