// One simulator per devices file: a run holds `<file>.lock` (its pid, host and start) from before it
// reads or provisions until it has recorded its end. Two runs on one file would move each other's
// credentials aside (--provision keeps the old file as .bak) and overwrite each other's
// simulatedUntil. A lock whose process is gone (same host, pid not alive) is stale and taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { ConfigError } from './config.js'

interface LockInfo { pid: number, host: string, since: string }

export interface DevicesFileLock { readonly file: string, release(): void }

function holder(lock: string): LockInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(lock, 'utf8')) as Partial<LockInfo>
    return typeof info.pid === 'number' ? { pid: info.pid, host: String(info.host ?? ''), since: String(info.since ?? '') } : undefined
  } catch {
    return undefined // being written, or garbage: stale if it stays unreadable
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, it is just not ours
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock of `devicesFile` for this process, or refuses (ConfigError, exit 2) if a live run holds it. */
export function lockDevicesFile(devicesFile: string, flag = 'devices-file'): DevicesFileLock {
  const lock = `${devicesFile}.lock`
  const me: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, JSON.stringify(me) + '\n', { flag: 'wx', mode: 0o600 })
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) {
        throw new ConfigError(`--${flag} ${devicesFile}: cannot take its lock ${lock} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
    }
    const other = holder(lock)
    if (!other && attempt === 0) {
      // maybe being written this very moment: look again shortly
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
      continue
    }
    if (other && (other.host !== me.host || alive(other.pid))) {
      const where = other.host === me.host ? `pid ${other.pid}` : `pid ${other.pid} on ${other.host}; if that run is over, delete ${lock}`
      throw new ConfigError(`--${flag} ${devicesFile} is in use by another simulator (${where}, since ${other.since}): ` +
        'give each simulator its own --devices-file, or wait for that run to end')
    }
    // the process that held it is gone (or the lock is unreadable): stale
    rmSync(lock, { force: true })
  }
  let held = true
  const release = () => {
    if (!held) return
    held = false
    process.off('exit', release)
    // only our own lock: never one a later run took over
    if (holder(lock)?.pid === process.pid) rmSync(lock, { force: true })
  }
  process.on('exit', release)
  return { file: lock, release }
}
