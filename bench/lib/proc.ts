// What /proc says about a process, read from outside it (a process at its open-file limit cannot
// open /proc itself). No side effects on import: tests use it too.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'

/** Resident set size of a process in KiB, from /proc/<pid>/status (VmRSS). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(m[1])
}

/** Open sockets of a process, counted from /proc/<pid>/fd. */
export function socketCount(pid: number): number {
  let n = 0
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++ } catch { /* closed meanwhile */ }
  }
  return n
}

/** A process and its children (e.g. a ReTrack supervisor and the workers it forked). */
export function processTree(pid: number): number[] {
  let children: number[] = []
  try { children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) } catch { /* gone */ }
  return [pid, ...children]
}
