// Fixtures for bench:ingest: a fresh PostgreSQL database with one tenant and N devices (known
// secrets), dropped when the bench ends however it ends, and a run of the load generator.
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { hashDeviceSecret } from '../../src/security/device-secrets.js'
import { serviceUrls } from '../../tests/helpers/service-urls.js'
import { startChild } from '../lib/children.js'
import { createScratchDatabase } from '../lib/postgres.js'
import type { LoadResult, LoadSpec } from './loadgen.js'

/** the machine's Redis, where the tests look for it (RETRACK_TEST_REDIS_URL) */
export const REDIS_URL = serviceUrls().redisUrl

export interface Fixture {
  url: string
  tenant: { id: string, slug: string }
  devices: Array<{ id: string, secret: string }>
}

export async function createFixture(deviceCount: number): Promise<Fixture> {
  // created, migrated and registered to be dropped however the bench ends
  const { url } = await createScratchDatabase()
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const tenant = { id: randomUUID(), slug: 'bench' }
  await pool.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $2)', [tenant.id, tenant.slug])
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ id: `dev_bench_${String(i).padStart(5, '0')}`, secret: randomBytes(32).toString('base64url') }))
  await pool.query(`INSERT INTO devices (id, tenant_id, name, secret_hash, updated_at) SELECT * , now() FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[])`,
    [devices.map((d) => d.id), devices.map(() => tenant.id), devices.map((d) => d.id), devices.map((d) => hashDeviceSecret(d.secret))])
  await pool.end()
  return { url, tenant, devices }
}

/** Runs the load generator in its own process and returns what it measured (its one JSON line). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { child, match } = await startChild('load generator', 'bench/ingest/loadgen.ts', {
    args: [JSON.stringify(spec)], ready: /^(\{.*\})$/m, readyTimeoutMs: spec.warmupMs + spec.durationMs + 60_000,
  })
  await child.stop(0)
  return JSON.parse(match[1]!) as LoadResult
}
