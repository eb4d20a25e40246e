// Start-up and the database, on the real process: PostgreSQL that does not answer or refuses ends
// the start with a message naming DATABASE_URL (never its password) and exit 1; half the
// BOOTSTRAP_* settings is a configuration error (exit 78); the data folder ends up owner-only.
import net from 'node:net'
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { logLines, run, start } from './run.js'

const SECRET = 'hunter2-s3cret'
const fatalOf = (out: string) => logLines(out).find((l) => l['level'] === 60)?.['msg']

describe('PostgreSQL unreachable at start', () => {
  const sockets = new Set<net.Socket>()
  // accepts and never answers: a paused TCP proxy, a blackholed host behind a load balancer
  const silent = net.createServer((socket) => { sockets.add(socket); socket.on('data', () => undefined); socket.on('error', () => undefined) })
  let port = 0
  beforeAll(async () => { port = await new Promise<number>((r) => silent.listen(0, '127.0.0.1', () => r((silent.address() as net.AddressInfo).port))) })
  afterAll(() => { for (const s of sockets) s.destroy(); silent.close() })

  it('a server that never answers: exit 1 within the connect timeout, naming DATABASE_URL', async () => {
    const ended = await run('src/main.ts', { DATABASE_URL: `postgres://retrack:${SECRET}@127.0.0.1:${port}/retrack` }, [], 40_000)
    expect(ended.code, ended.out).toBe(1)
    expect(fatalOf(ended.out)).toBe(`ReTrack failed to start: DATABASE_URL: PostgreSQL at 127.0.0.1:${port} did not answer within 5 s`)
    expect(ended.ms).toBeLessThan(20_000) // 5 s, and the process's own start (tsx) on a busy machine
    expect(ended.out).not.toContain(SECRET)
    expect(ended.out).not.toMatch(/database ready/)
  }, 45_000)

  it('a refused connection: exit 1, naming DATABASE_URL and where it points', async () => {
    const ended = await run('src/main.ts', { DATABASE_URL: `postgres://retrack:${SECRET}@127.0.0.1:1/retrack` }, [], 30_000)
    expect(ended.code, ended.out).toBe(1)
    expect(fatalOf(ended.out)).toBe('ReTrack failed to start: DATABASE_URL: PostgreSQL at 127.0.0.1:1 is not reachable (connect ECONNREFUSED 127.0.0.1:1)')
    expect(ended.out).not.toContain(SECRET)
  })
})

describe('half the BOOTSTRAP_* settings', () => {
  it.each([
    ['no password', { BOOTSTRAP_TENANT: 'acme', BOOTSTRAP_EMAIL: 'admin@acme.example' }, 'BOOTSTRAP_PASSWORD: missing'],
    ['only a password', { BOOTSTRAP_PASSWORD: SECRET }, 'BOOTSTRAP_TENANT, BOOTSTRAP_EMAIL: missing'],
    ['an email that is none', { BOOTSTRAP_TENANT: 'acme', BOOTSTRAP_EMAIL: 'not an email', BOOTSTRAP_PASSWORD: SECRET }, 'BOOTSTRAP_EMAIL: must be an email address'],
  ])('%s: exit 78 naming the setting, nothing started', async (_name, env, message) => {
    const ended = await run('src/main.ts', env, [], 30_000)
    expect(ended.code, ended.out).toBe(78)
    expect(ended.out).toContain(`invalid configuration: ${message}`)
    expect(ended.out).not.toContain(SECRET)
    expect(ended.out).not.toMatch(/database ready|\n\s+at /)
  })
})

describe('the data folder', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'retrack-ops-datadir-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  const modeOf = (dir: string) => statSync(dir).mode & 0o777

  it('is created 0700; one opened up to 0755 is made 0700 again at the next start, with a warning', async () => {
    const dir = path.join(root, 'data') // does not exist yet
    const env = { DATA_DIR: dir, JWT_SECRET: 'x'.repeat(32) }
    const first = start('src/main.ts', env)
    try {
      await first.waitFor(/^ReTrack is up/)
      expect(modeOf(dir)).toBe(0o700)
      expect(existsSync(path.join(dir, 'pg'))).toBe(true) // the embedded database lives inside
    } finally {
      first.child.kill('SIGTERM')
      await first.ended
    }

    chmodSync(dir, 0o755)
    const second = start('src/main.ts', env)
    try {
      const warning = await second.waitFor(/^the data folder was open to other users/)
      expect(warning).toMatchObject({ level: 40, dataDir: dir, was: '0755', mode: '0700' })
      await second.waitFor(/^ReTrack is up/)
      expect(modeOf(dir)).toBe(0o700)
    } finally {
      second.child.kill('SIGTERM')
      await second.ended
    }
  }, 120_000)
})
