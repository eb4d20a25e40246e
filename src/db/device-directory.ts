// Looks up a device for authentication (MQTT connect, HTTP ingestion, external broker). Results are
// cached briefly so a fleet reconnecting at once costs one query per device, and a flood of
// unknown ids costs one query per id; revoke() drops an entry the moment credentials change.
import type { Prisma } from './database.js'

export interface DeviceRecord {
  id: string
  tenantId: string
  tenantSlug: string
  vehicleId: string | null
  secretHash: string
  secretVersion: number
  enabled: boolean
}

export class DeviceDirectory {
  private readonly cache = new Map<string, { at: number, record: DeviceRecord | null }>()

  constructor(private readonly prisma: Prisma, private readonly ttlMs = 30_000, private readonly negativeTtlMs = 5_000) {}

  async find(deviceId: string): Promise<DeviceRecord | null> {
    const hit = this.cache.get(deviceId)
    const now = Date.now()
    if (hit && now - hit.at < (hit.record ? this.ttlMs : this.negativeTtlMs)) return hit.record
    const row = await this.prisma.device.findUnique({ where: { id: deviceId }, include: { tenant: { select: { slug: true } } } })
    const record = row ? {
      id: row.id, tenantId: row.tenantId, tenantSlug: row.tenant.slug, vehicleId: row.vehicleId,
      secretHash: row.secretHash, secretVersion: row.secretVersion, enabled: row.enabled,
    } : null
    if (this.cache.size > 100_000) this.cache.clear()
    this.cache.set(deviceId, { at: now, record })
    return record
  }

  invalidate(deviceId: string): void {
    this.cache.delete(deviceId)
  }
}
