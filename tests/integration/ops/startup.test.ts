// Start-up failures an operator meets, on the real process: each ends with a message naming the
// setting (never a secret), a non-zero exit (78 for the configuration) and no raw stack trace or
// half-started node.
import net from 'node:net'
import { mkdtempSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { logLines, run, start } from './run.js'

const SECRET = 'hunter2-s3cret'

describe('an invalid configuration stops the start before anything runs (exit 78)', () => {
  it.each([
    ['NODE_ENV=production without JWT_SECRET', { NODE_ENV: 'production', JWT_SECRET: undefined }, /JWT_SECRET is required in production/],
    ['MQTT_CLUSTER=on without REDIS_URL', { MQTT_CLUSTER: 'on', REDIS_URL: undefined }, /MQTT_CLUSTER: on needs REDIS_URL/],
    ['REDIS_URL with a bad port', { REDIS_URL: `redis://:${SECRET}@127.0.0.1:99999` }, /REDIS_URL: is not a valid URL/],
    ['REDIS_URL that is not a redis:// URL', { REDIS_URL: `http://:${SECRET}@127.0.0.1:6379` }, /REDIS_URL: must start with redis:\/\//],
    ['DATABASE_URL that is not a URL', { DATABASE_URL: 'not a url' }, /DATABASE_URL: is not a valid URL/],
    ['DATABASE_URL of another database', { DATABASE_URL: `mysql://u:${SECRET}@127.0.0.1/retrack` }, /DATABASE_URL: must start with postgres:\/\//],
    ['half a TLS configuration', { MQTT_TLS_KEY: '/etc/hostname' }, /MQTT_TLS_CERT and MQTT_TLS_KEY/],
    ['an unknown LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /LOG_LEVEL: must be one of fatal, error/],
    ['a share group that is a topic path', { EXTERNAL_BROKER_URL: 'mqtt://127.0.0.1:1', EXTERNAL_BROKER_SHARE_GROUP: 'ia/audit' }, /EXTERNAL_BROKER_SHARE_GROUP: must match pattern/],
  ])('%s', async (_name, env, message) => {
    const ended = await run('src/main.ts', env, [], 30_000)
    expect(ended.out).toMatch(message)
    expect(ended.code, ended.out).toBe(78)
    expect(ended.out).not.toContain(SECRET)
    expect(ended.out).not.toMatch(/database ready|\n\s+at /) // refused before the database, no stack trace
  })
})

describe('ports already in use', () => {
  const holder = net.createServer()
  let port = 0
  const dirs: string[] = []
  afterAll(() => { holder.close(); for (const d of dirs) rmSync(d, { recursive: true, force: true }) })

  it.each(['HTTP_PORT', 'MQTT_PORT'])('%s taken: a message naming it, exit 1, the data folder unlocked', async (setting) => {
    if (!port) port = await new Promise<number>((r) => holder.listen(0, '127.0.0.1', () => r((holder.address() as net.AddressInfo).port)))
    const dir = mkdtempSync(path.join(tmpdir(), 'retrack-ops-port-'))
    dirs.push(dir)
    const ended = await run('src/main.ts', { [setting]: String(port), DATA_DIR: dir, JWT_SECRET: 'x'.repeat(32) }, [], 60_000)
    expect(ended.code, ended.out).toBe(1)
    const fatal = logLines(ended.out).find((l) => l['level'] === 60)
    expect(fatal?.['msg']).toBe(`ReTrack failed to start: ${setting}: 127.0.0.1:${port} is already in use (another ReTrack or another server listens there)`)
    expect(existsSync(path.join(dir, 'retrack.pid')), 'lock file left behind').toBe(false)
  })
})

describe('the embedded database is held by another running instance', () => {
  it('the second start says so and exits non-zero; the first one keeps running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'retrack-ops-lock-'))
    const first = start('src/main.ts', { DATA_DIR: dir, JWT_SECRET: 'x'.repeat(32) })
    try {
      await first.waitFor(/^ReTrack is up/)
      const second = await run('src/main.ts', { DATA_DIR: dir, JWT_SECRET: 'x'.repeat(32) }, [], 30_000)
      expect(second.code).toBe(1)
      expect(logLines(second.out).find((l) => l['level'] === 60)?.['msg']).toMatch(new RegExp(`the embedded database in ${dir} is in use by process ${first.child.pid}`))
      expect(first.child.exitCode).toBeNull()
    } finally {
      first.child.kill('SIGTERM')
      await first.ended
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})

describe('the external broker unreachable at start', () => {
  it('a structured message naming EXTERNAL_BROKER_URL (not its password), exit 1', async () => {
    const ended = await run('src/main.ts', { EXTERNAL_BROKER_URL: `mqtt://retrack:${SECRET}@127.0.0.1:1` }, [], 40_000)
    expect(ended.code, ended.out).toBe(1)
    const fatal = logLines(ended.out).find((l) => l['level'] === 60)
    expect(fatal?.['msg']).toMatch(/^ReTrack failed to start: EXTERNAL_BROKER_URL: the broker at 127\.0\.0\.1:1 did not accept a connection within 5 s \(connect ECONNREFUSED/)
    expect(ended.out).not.toContain(SECRET)
  })
})

describe('Redis unreachable at start', () => {
  it('a structured message naming REDIS_URL (not its password), exit 1, no crash', async () => {
    const ended = await run('src/main.ts', { REDIS_URL: `redis://:${SECRET}@127.0.0.1:1` }, [], 40_000)
    expect(ended.code, ended.out).toBe(1)
    const fatal = logLines(ended.out).find((l) => l['level'] === 60)
    expect(fatal?.['msg']).toMatch(/^ReTrack failed to start: REDIS_URL: Redis at 127\.0\.0\.1:1 did not answer within 5 s \(connect ECONNREFUSED/)
    expect(ended.out).not.toContain(SECRET)
    expect(ended.out).not.toMatch(/Unhandled error event|throw er;/)
  })
})
