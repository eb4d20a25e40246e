// The data folder holds the embedded database (password hashes among the rest), the generated JWT
// secret and the state snapshot: ReTrack creates it owner-only and tightens one that is not.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { lockDataDir, secureDataDir } from '../../../src/db/embedded-lock.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'retrack-datadir-'))
  dirs.push(dir)
  return dir
}
function logged() {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } }))
  return { log, lines }
}
const modeOf = (dir: string) => statSync(dir).mode & 0o777

describe('the data folder is its owner\'s only', () => {
  it('a new one (parents included) is created 0700, whatever the umask', () => {
    const dir = path.join(scratch(), 'nested', 'data')
    const previous = process.umask(0o002) // the widest umask in common use
    try {
      const { log, lines } = logged()
      secureDataDir(dir, log)
      expect(modeOf(dir)).toBe(0o700)
      expect(lines.map((l) => l['msg'])).toEqual(['created the data folder (owner only)'])
    } finally { process.umask(previous) }
  })

  it('an existing 0755 one is tightened to 0700, with a warning saying what it was', () => {
    const dir = scratch()
    chmodSync(dir, 0o755)
    const { log, lines } = logged()
    secureDataDir(dir, log)
    expect(modeOf(dir)).toBe(0o700)
    expect(lines).toEqual([expect.objectContaining({ level: 40, dataDir: dir, was: '0755', mode: '0700' })])
  })

  it('one already 0700 (or tighter) is left alone, without a word', () => {
    const dir = scratch()
    chmodSync(dir, 0o500)
    const { log, lines } = logged()
    secureDataDir(dir, log)
    expect(modeOf(dir)).toBe(0o500)
    expect(lines).toEqual([])
    chmodSync(dir, 0o700)
  })

  it('with create: false a missing folder stays missing (a node that writes nothing there)', () => {
    const dir = path.join(scratch(), 'data')
    const { log } = logged()
    secureDataDir(dir, log, { create: false })
    expect(existsSync(dir)).toBe(false)
  })

  it('the lock creates a missing folder 0700 too (the CLI path)', () => {
    const dir = path.join(scratch(), 'data')
    const release = lockDataDir(dir)
    expect(modeOf(dir)).toBe(0o700)
    release()
  })

  // /tmp: open to all, owned by root, so a non-root process cannot chmod it
  const foreign = statSync('/tmp')
  it.runIf(process.getuid?.() !== 0 && foreign.uid !== process.getuid?.())('a folder it may not change is used as it is, with a warning', () => {
    const { log, lines } = logged()
    secureDataDir('/tmp', log)
    expect(modeOf('/tmp')).toBe(foreign.mode & 0o777)
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: expect.stringMatching(/could not be made owner only/) as unknown })])
  })
})
