// PGlite is one process's database: two processes opening the same data folder would corrupt it.
// A pid lock file refuses the second with a clear message instead.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { AppError } from '../errors.js'

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const file = path.join(dataDir, 'retrack.pid')
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' })
  } catch {
    const holder = Number(readFileSync(file, 'utf8'))
    if (holder && holder !== process.pid && alive(holder)) {
      throw new AppError(500, 'DATA_DIR_LOCKED', `the embedded database in ${dataDir} is in use by process ${holder}; stop it first (or use its API)`)
    }
    writeFileSync(file, String(process.pid))
  }
  return () => rmSync(file, { force: true })
}
