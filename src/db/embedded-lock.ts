// PGlite is one process's database: two processes opening the same data folder would corrupt it.
// A pid lock file refuses the second with a clear message instead. A file left by a process that
// died (kill -9, a power cut) is taken over, also when its pid now belongs to another program (pids
// are reused, in containers after every restart): only a live Node process holds the lock.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { AppError } from '../errors.js'

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Whether `pid` may be a ReTrack node: alive, and where /proc tells (Linux) running Node. */
function mayHold(pid: number): boolean {
  if (!alive(pid)) return false
  let cmdline: string
  try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8') } catch { return true } // no /proc: assume it does
  const program = path.basename(cmdline.split('\0')[0] ?? '')
  return /^node/.test(program) || cmdline.includes('retrack')
}

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, 'retrack.pid')
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' })
  } catch {
    const holder = Number(readFileSync(file, 'utf8'))
    if (holder && holder !== process.pid && mayHold(holder)) {
      throw new AppError(500, 'DATA_DIR_LOCKED', `the embedded database in ${dataDir} is in use by process ${holder}; stop it first (or use its API)`)
    }
    writeFileSync(file, String(process.pid))
  }
  return () => rmSync(file, { force: true })
}
