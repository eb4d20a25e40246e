// The embedded database's lock file: a live Node process holding the data folder refuses a second
// one; a lock left by a process that died is taken over, even when its pid now belongs to another
// program (pids are reused after a crash, in containers at every restart).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { lockDataDir } from '../../../src/db/embedded-lock.js'

const children: ChildProcess[] = []
const dirs: string[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function dataDirHeldBy(pid: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'retrack-lock-'))
  dirs.push(dir)
  writeFileSync(path.join(dir, 'retrack.pid'), String(pid))
  return dir
}
function running(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: 'ignore' })
  children.push(child)
  return child
}

describe('the embedded data folder lock', () => {
  it('refuses a folder a live Node process holds, naming the process', () => {
    const node = running(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    const dir = dataDirHeldBy(node.pid!)
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${node.pid}`))
    expect(readFileSync(path.join(dir, 'retrack.pid'), 'utf8')).toBe(String(node.pid))
  })

  it('takes over the lock of a process that is gone, and releases it', async () => {
    const gone = running(process.execPath, ['-e', '0'])
    await new Promise((resolve) => gone.once('exit', resolve))
    const dir = dataDirHeldBy(gone.pid!)
    const release = lockDataDir(dir)
    expect(readFileSync(path.join(dir, 'retrack.pid'), 'utf8')).toBe(String(process.pid))
    release()
    expect(existsSync(path.join(dir, 'retrack.pid'))).toBe(false)
  })

  it.runIf(existsSync('/proc/self/cmdline'))('takes over a lock whose pid now belongs to another program', () => {
    const other = running('sleep', ['30'])
    const dir = dataDirHeldBy(other.pid!)
    lockDataDir(dir)
    expect(readFileSync(path.join(dir, 'retrack.pid'), 'utf8')).toBe(String(process.pid))
  })
})
