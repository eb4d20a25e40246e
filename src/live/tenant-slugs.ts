// Tenant id → slug, for MQTT topics. Slugs do not change, so entries live long; a short TTL still
// bounds the damage should a platform administrator ever rename one in the database.
import type pg from 'pg'

export class TenantSlugs {
  private readonly cache = new Map<string, { at: number, slug: Promise<string | null> }>()

  constructor(private readonly pool: pg.Pool, private readonly ttlMs = 10 * 60_000) {}

  of(tenantId: string): Promise<string | null> {
    const hit = this.cache.get(tenantId)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.slug
    const slug = this.pool.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [tenantId])
      .then(({ rows }) => rows[0]?.slug ?? null)
    slug.catch(() => this.cache.delete(tenantId)) // a failed lookup is retried next time
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(tenantId, { at: Date.now(), slug })
    return slug
  }
}
