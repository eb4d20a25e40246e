// The embedded database is served on a Unix socket in an owner-only folder, never on a TCP port:
// pglite-socket asks no password, so a port on 127.0.0.1 let every local user in as postgres.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLog } from '../../helpers/databases.js'
import { openDatabase, type Database } from '../../../src/db/database.js'
import { embeddedSocketFolder } from '../../../src/db/embedded-socket.js'
import { migrate } from '../../../src/db/migrate.js'

const dirs: string[] = []
afterAll(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
function scratch(name = 'retrack-socket-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), name))
  dirs.push(dir)
  return dir
}

const modeOf = (p: string) => statSync(p).mode & 0o777
const SOCKET = '.s.PGSQL.5432'

/** The TCP ports this process listens on (Linux: its socket fds matched against /proc/net/tcp{,6}). */
function listeningTcpPorts(): number[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1]
      if (inode) inodes.add(inode)
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/) // sl local_address rem_address st ... uid timeout inode
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.push(parseInt(f[1]?.split(':')[1] ?? '', 16))
    }
  }
  return ports
}

/** The folder pg connects to (its `host`), from the pool's own settings. */
const socketFolderOf = (db: Database) => String(db.pool.options.host)

describe.runIf(existsSync('/proc/self/fd'))('the embedded database listens on no TCP port', () => {
  it('in DATA_DIR: a socket in DATA_DIR/pg-socket (0700), usable by pg and Prisma, gone at close', async () => {
    const dataDir = scratch()
    const before = listeningTcpPorts()
    const db = await openDatabase({ dataDir, poolMax: 1, log: silentLog })
    try {
      expect(listeningTcpPorts()).toEqual(before)
      const folder = socketFolderOf(db)
      expect(folder).toBe(path.join(dataDir, 'pg-socket'))
      expect(modeOf(folder)).toBe(0o700)
      expect(lstatSync(path.join(folder, SOCKET)).isSocket()).toBe(true)
      expect(modeOf(path.join(folder, SOCKET))).toBe(0o600)

      await migrate(db.pool, silentLog)
      const tenant = await db.prisma.tenant.create({ data: { slug: 'sock', name: 'Socket' } })
      const { rows } = await db.pool.query<{ slug: string }>('SELECT slug FROM tenants WHERE id = $1', [tenant.id])
      expect(rows).toEqual([{ slug: 'sock' }])
      expect(await db.prisma.tenant.count()).toBe(1)

      // any pg client of the owner reaches it the libpq way: host = the folder
      const other = new pg.Client({ host: folder, user: 'postgres', database: 'postgres' })
      await other.connect()
      try { expect((await other.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants')).rows).toEqual([{ n: 1 }]) } finally { await other.end() }
    } finally {
      await db.close()
    }
    expect(existsSync(path.join(dataDir, 'pg-socket', SOCKET))).toBe(false)

    // a socket file left by a process killed -9 is taken over on the next start
    const stale = path.join(dataDir, 'pg-socket', SOCKET)
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`])
    expect(lstatSync(stale).isSocket()).toBe(true)
    const reopened = await openDatabase({ dataDir, poolMax: 1, log: silentLog })
    try {
      expect(await reopened.prisma.tenant.count()).toBe(1)
    } finally { await reopened.close() }
  })

  it('in memory: a socket in a private temporary folder (0700), removed at close', async () => {
    const before = listeningTcpPorts()
    const db = await openDatabase({ dataDir: 'memory://', poolMax: 1, log: silentLog })
    let folder: string
    try {
      expect(listeningTcpPorts()).toEqual(before)
      folder = socketFolderOf(db)
      expect(path.dirname(folder)).toBe(tmpdir())
      expect(modeOf(folder)).toBe(0o700)
      expect(lstatSync(path.join(folder, SOCKET)).isSocket()).toBe(true)
      expect((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      expect(await db.prisma.$queryRaw<Array<{ two: number }>>`SELECT 2 AS two`).toEqual([{ two: 2 }])
    } finally {
      await db.close()
    }
    expect(existsSync(folder)).toBe(false)
  })
})

describe('the socket folder', () => {
  it('a DATA_DIR too long for a socket path (sun_path) falls back to a private temporary folder', async () => {
    const dataDir = path.join(scratch(), 'd'.repeat(100))
    const socket = await embeddedSocketFolder(dataDir)
    try {
      expect(path.dirname(socket.folder)).toBe(tmpdir())
      expect(modeOf(socket.folder)).toBe(0o700)
      expect(socket.socketPath).toBe(path.join(socket.folder, SOCKET))
    } finally { socket.remove() }
    expect(existsSync(socket.folder)).toBe(false)
  })

  it('an existing DATA_DIR/pg-socket open to others is made 0700', async () => {
    const dataDir = scratch()
    mkdirSync(path.join(dataDir, 'pg-socket'), { mode: 0o777 })
    const socket = await embeddedSocketFolder(dataDir)
    expect(socket.folder).toBe(path.join(dataDir, 'pg-socket'))
    expect(modeOf(socket.folder)).toBe(0o700)
  })

  it('refuses a socket another live process serves', async () => {
    const dataDir = scratch()
    const live = path.join(dataDir, 'pg-socket', SOCKET)
    mkdirSync(path.dirname(live), { mode: 0o700 })
    const server = net.createServer((s) => s.destroy())
    await new Promise<void>((r) => server.listen(live, r))
    try {
      await expect(embeddedSocketFolder(dataDir)).rejects.toThrow(`another process serves an embedded database at ${live}`)
    } finally { await new Promise((r) => server.close(r)) }
  })
})
