// Looks up a device for authentication (MQTT connect, HTTP ingestion, external broker). Results are
// cached briefly so a fleet reconnecting at once costs one lookup per device, and a flood of
// unknown ids costs one per id; invalidate() drops an entry the moment credentials change.
// The lookups that arrive in the same tick (a reconnect storm) share one query: one JOIN of devices
// and tenants for up to MAX_IDS ids, instead of Prisma's two queries per device (device, then
// tenant), which bounded the connect rate (docs/performance.md, bench:connections).
import type pg from 'pg'

export interface DeviceRecord {
  id: string
  tenantId: string
  tenantSlug: string
  vehicleId: string | null
  secretHash: string
  secretVersion: number
  enabled: boolean
}

const MAX_IDS = 500
const MAX_CACHED = 100_000

type Waiter = { resolve: (r: DeviceRecord | null) => void, reject: (err: unknown) => void }

export class DeviceDirectory {
  private readonly cache = new Map<string, { at: number, record: DeviceRecord | null }>()
  /** ids asked for in this tick, with everyone waiting for each */
  private pending = new Map<string, Waiter[]>()

  constructor(private readonly pool: Pick<pg.Pool, 'query'>, private readonly ttlMs = 30_000, private readonly negativeTtlMs = 5_000) {}

  find(deviceId: string): Promise<DeviceRecord | null> {
    const hit = this.cache.get(deviceId)
    if (hit && Date.now() - hit.at < (hit.record ? this.ttlMs : this.negativeTtlMs)) return Promise.resolve(hit.record)
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => { void this.flush() })
      const waiting = this.pending.get(deviceId)
      if (waiting) waiting.push({ resolve, reject })
      else this.pending.set(deviceId, [{ resolve, reject }])
    })
  }

  invalidate(deviceId: string): void {
    this.cache.delete(deviceId)
  }

  private async flush() {
    const batch = this.pending
    this.pending = new Map()
    const ids = [...batch.keys()]
    for (let i = 0; i < ids.length; i += MAX_IDS) {
      const chunk = ids.slice(i, i + MAX_IDS)
      try {
        const found = await this.lookup(chunk)
        const now = Date.now()
        if (this.cache.size + chunk.length > MAX_CACHED) this.cache.clear()
        for (const id of chunk) {
          const record = found.get(id) ?? null
          this.cache.set(id, { at: now, record })
          for (const w of batch.get(id)!) w.resolve(record)
        }
      } catch (err) {
        for (const id of chunk) for (const w of batch.get(id)!) w.reject(err)
      }
    }
  }

  private async lookup(ids: string[]): Promise<Map<string, DeviceRecord>> {
    const { rows } = await this.pool.query<DeviceRecord>(
      `SELECT d.id, d.tenant_id AS "tenantId", t.slug AS "tenantSlug", d.vehicle_id AS "vehicleId",
              d.secret_hash AS "secretHash", d.secret_version AS "secretVersion", d.enabled
         FROM devices d JOIN tenants t ON t.id = d.tenant_id
        WHERE d.id = ANY($1::text[])`, [ids])
    return new Map(rows.map((r) => [r.id, r]))
  }
}
