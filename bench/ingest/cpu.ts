// CPU time of processes from /proc (utime + stime), to say which process the time goes to.
import { readFileSync, readdirSync } from 'node:fs'

const TICK_S = 0.01 // USER_HZ is 100 on Linux

function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_S
  } catch { return 0 }
}

/** Pids whose command line contains `needle`. */
export function pidsOf(needle: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle) } catch { return false }
  })
}

export type Groups = Record<string, () => number[]>

/** Snapshot of CPU seconds per group; `since` gives the difference to an earlier snapshot. */
export function snapshot(groups: Groups): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids().reduce((s, pid) => s + cpuSeconds(pid), 0)]))
}

export function since(before: Record<string, number>, after: Record<string, number>, seconds: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - (before[k] ?? 0)) / seconds]))
}
