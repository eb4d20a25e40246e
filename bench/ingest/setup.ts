// Fixtures for bench:ingest: a fresh PostgreSQL database with one tenant and N devices (known
// secrets), dropped when the bench ends however it ends, and a run of the load generator.
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { migrate } from '../../src/db/migrate.js'
import { hashDeviceSecret } from '../../src/security/device-secrets.js'
import { startChild } from '../lib/children.js'
import { onCleanup } from '../lib/cleanup.js'
import type { LoadResult, LoadSpec } from './loadgen.js'

export const POSTGRES_ADMIN = process.env.RETRACK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.RETRACK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface Fixture {
  url: string
  tenant: { id: string, slug: string }
  devices: Array<{ id: string, secret: string }>
}

export async function createFixture(deviceCount: number): Promise<Fixture> {
  const name = `retrack_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  onCleanup(async () => {
    const c = new pg.Client({ connectionString: POSTGRES_ADMIN })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  })
  const url = new URL(POSTGRES_ADMIN)
  url.pathname = `/${name}`
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 })
  await migrate(pool, pino({ level: 'silent' }))
  const tenant = { id: randomUUID(), slug: 'bench' }
  await pool.query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $2)', [tenant.id, tenant.slug])
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ id: `dev_bench_${String(i).padStart(5, '0')}`, secret: randomBytes(32).toString('base64url') }))
  await pool.query(`INSERT INTO devices (id, tenant_id, name, secret_hash, updated_at) SELECT * , now() FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[])`,
    [devices.map((d) => d.id), devices.map(() => tenant.id), devices.map((d) => d.id), devices.map((d) => hashDeviceSecret(d.secret))])
  await pool.end()
  return { url: url.toString(), tenant, devices }
}

/** Runs the load generator in its own process and returns what it measured (its one JSON line). */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { child, match } = await startChild('load generator', 'bench/ingest/loadgen.ts', {
    args: [JSON.stringify(spec)], ready: /^(\{.*\})$/m, readyTimeoutMs: spec.warmupMs + spec.durationMs + 60_000,
  })
  await child.stop(0)
  return JSON.parse(match[1]!) as LoadResult
}
