// PGlite is one process's database: two processes opening the same data folder would corrupt it.
// A pid lock file refuses the second with a clear message instead. A file left by a process that
// died (kill -9, a power cut) is taken over, also when its pid now belongs to another program (pids
// are reused, in containers after every restart): only a live Node process holds the lock.
// The folder itself is its owner's only (0700): it holds the database (password hashes, device
// secrets' hashes, everything), the generated JWT secret and the state snapshot.
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { AppError } from '../errors.js'
import type { Logger } from '../logger.js'

/** The data folder's mode: its owner's only. PGlite writes its files 0666 (less the umask): the folder is what keeps others out. */
export const DATA_DIR_MODE = 0o700

/**
 * Creates `dataDir` owner-only, or (`create: false`) leaves a missing one missing; an existing folder
 * that its group or others may enter is tightened to 0700, with a warning. A folder that cannot be
 * tightened (another owner) is warned about and used as it is.
 */
export function secureDataDir(dataDir: string, log: Pick<Logger, 'info' | 'warn'>, { create = true } = {}): void {
  let mode: number
  try {
    mode = statSync(dataDir).mode & 0o777
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) return
    mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE })
    chmodSync(dataDir, DATA_DIR_MODE) // whatever the umask
    log.info({ dataDir, mode: '0700' }, 'created the data folder (owner only)')
    return
  }
  if ((mode & 0o077) === 0) return
  const was = `0${mode.toString(8)}`
  try {
    chmodSync(dataDir, DATA_DIR_MODE)
    log.warn({ dataDir, was, mode: '0700' }, 'the data folder was open to other users: made it owner only')
  } catch (err) {
    log.warn({ dataDir, mode: was, err }, 'the data folder is open to other users and could not be made owner only (chmod 700 it)')
  }
}

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
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE })
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
