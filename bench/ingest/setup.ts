// Fixtures for bench:ingest: a fresh PostgreSQL database with one tenant and N devices (known
// secrets), and child processes for ReTrack, the bare broker and the load generator.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { migrate } from '../../src/db/migrate.js'
import { hashDeviceSecret } from '../../src/security/device-secrets.js'
import { fromRoot } from '../../src/paths.js'
import type { LoadResult, LoadSpec } from './loadgen.js'

export const POSTGRES_ADMIN = process.env.RETRACK_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.RETRACK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface Fixture {
  url: string
  tenant: { id: string, slug: string }
  devices: Array<{ id: string, secret: string }>
  drop(): Promise<void>
}

export async function createFixture(deviceCount: number): Promise<Fixture> {
  const name = `retrack_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
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
  return {
    url: url.toString(), tenant, devices,
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

/** Spawns `node --import tsx <script>` and resolves with the child and the first stdout line matching `ready`. */
export function spawnScript(script: string, args: string[], env: Record<string, string>, ready: RegExp, nodeFlags: string[] = [], onStart?: (pid: number) => void): Promise<{ child: ChildProcess, match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    // compiled JavaScript runs as is; TypeScript through tsx
    const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : []
    const child = spawn(process.execPath, [...nodeFlags, ...loader, fromRoot(script), ...args], { cwd: fromRoot(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    if (child.pid) onStart?.(child.pid)
    let out = ''
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = ready.exec(out)
      if (match) { child.stdout.off('data', onData); resolve({ child, match }) }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (c: Buffer) => { out += c.toString() })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${out.slice(-2000)}`)))
  })
}

export async function runLoad(spec: LoadSpec, onStart?: (pid: number) => void): Promise<LoadResult> {
  const running = spawnScript('bench/ingest/loadgen.ts', [JSON.stringify(spec)], {}, /^(\{.*\})$/m, [], onStart)
  const { child, match } = await running
  child.kill()
  return JSON.parse(match[1]!) as LoadResult
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  // the grace timer must not outlive the child: a pending one kept the bench alive a minute after its verdicts
  await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 60_000) })])
  clearTimeout(timer)
  if (child.exitCode === null) child.kill('SIGKILL')
}
