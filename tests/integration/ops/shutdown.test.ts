// Graceful shutdown of the real process on its embedded database: bounded even when a client
// holds a request open, forced by a second signal, and clean when the signal comes during start-up.
import net from 'node:net'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { logLines, start, type Running } from './run.js'

const JWT_SECRET = 'x'.repeat(32)
const SHUTDOWN_TIMEOUT_MS = 12_000

/** A request that never finishes arriving: its body is 100 bytes, 5 are sent. */
function stalledRequest(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":')
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

describe('shutdown', () => {
  let dir = ''
  let node: Running | null = null
  let socket: net.Socket | null = null
  const boot = async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'retrack-ops-stop-'))
    node = start('src/main.ts', { DATA_DIR: dir, JWT_SECRET, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) })
    const up = await node.waitFor(/^ReTrack is up/)
    return up['http'] as number
  }
  afterEach(async () => {
    socket?.destroy()
    if (node && node.child.exitCode === null && node.child.signalCode === null) { node.child.kill('SIGKILL'); await node.ended }
    if (dir) rmSync(dir, { recursive: true, force: true })
    node = null; socket = null; dir = ''
  })

  it('a request left open does not hold the drain and the database close until the timeout: exit 0, data folder unlocked', async () => {
    const http = await boot()
    socket = await stalledRequest(http)
    await node!.waitFor(/^incoming request$/)
    node!.child.kill('SIGTERM')
    const ended = await node!.ended
    expect(ended.code, ended.out).toBe(0)
    const msgs = logLines(ended.out).map((l) => l['msg'])
    expect(msgs).toContain('stopped')
    expect(msgs).not.toContain('shutdown timed out')
    expect(existsSync(path.join(dir, 'retrack.pid')), 'lock file left behind').toBe(false)
    const stopping = logLines(ended.out).find((l) => l['msg'] === 'shutting down')!
    const stopped = logLines(ended.out).find((l) => l['msg'] === 'stopped')!
    expect((stopped['time'] as number) - (stopping['time'] as number)).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2)
  }, 90_000)

  it('a second signal exits at once', async () => {
    const http = await boot()
    socket = await stalledRequest(http)
    await node!.waitFor(/^incoming request$/)
    node!.child.kill('SIGTERM')
    await node!.waitFor(/^shutting down/)
    const second = Date.now()
    node!.child.kill('SIGINT')
    const ended = await node!.ended
    expect(Date.now() - second).toBeLessThan(2000)
    expect(ended.code).toBe(1)
    expect(logLines(ended.out).map((l) => l['msg'])).toContain('second signal: exiting without finishing the shutdown')
  }, 90_000)

  it('a signal during start-up stops what was started (exit 0, data folder unlocked) instead of killing it mid-way', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'retrack-ops-stop-'))
    node = start('src/main.ts', { DATA_DIR: dir, JWT_SECRET, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) })
    await node.waitFor(/^embedded PGlite database open$/)
    node.child.kill('SIGTERM')
    const ended = await node.ended
    expect(ended.signal, ended.out).toBeNull()
    expect(ended.code, ended.out).toBe(0)
    expect(logLines(ended.out).map((l) => l['msg'])).toContain('stopped')
    expect(existsSync(path.join(dir, 'retrack.pid')), 'lock file left behind').toBe(false)
  }, 90_000)
})
