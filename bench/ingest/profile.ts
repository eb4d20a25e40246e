// Summarizes a V8 .cpuprofile: self time per function (and per package), to say where the time goes.
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { table } from '../lib/report.js'

interface Node { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number }
interface Profile { nodes: Node[], samples: number[], timeDeltas: number[] }

export const place = (url: string) => {
  const nm = url.lastIndexOf('node_modules/')
  if (nm >= 0) return url.slice(nm + 13).split('/').slice(0, url.slice(nm + 13).startsWith('@') ? 2 : 1).join('/')
  const src = url.indexOf('/src/')
  return src >= 0 ? url.slice(src + 1) : url.replace(/^.*\//, '') || '(native)'
}

export async function summarizeProfile(dir: string, top = 20): Promise<string> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))
  if (!file) return '(no profile written)'
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const fn = new Map<string, number>()
  const pkg = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!
    const where = place(n.callFrame.url)
    const name = `${n.callFrame.functionName || '(anonymous)'} ${where}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`
    fn.set(name, (fn.get(name) ?? 0) + us)
    pkg.set(where, (pkg.get(where) ?? 0) + us)
  }
  const rows = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => [k, `${(100 * us / total).toFixed(1)}%`])
  return `${table(['function', 'self'], rows(fn))}\n\n${table(['where', 'self'], rows(pkg))}`
}

interface TreeNode extends Node { children?: number[] }

/** Inclusive time of the functions whose name matches `pattern`, counted once per sample. */
export async function inclusive(dir: string, patterns: RegExp[]): Promise<string> {
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))
  if (!file) return '(no profile written)'
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Profile & { nodes: TreeNode[] }
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const totals = new Map<string, number>()
  let all = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    all += dt
    const hit = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!
      const label = `${n.callFrame.functionName} ${place(n.callFrame.url)}`
      for (const p of patterns) if (p.test(label)) hit.add(p.source)
    }
    for (const h of hit) totals.set(h, (totals.get(h) ?? 0) + dt)
  })
  return table(['inclusive', 'share'], [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${(100 * v / all).toFixed(1)}%`]))
}
