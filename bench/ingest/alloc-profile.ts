// Allocation profile of a running process through its inspector (`node --inspect`): V8's sampling
// heap profiler, told to count objects the garbage collector has already freed as well, since a
// message's short-lived garbage is what the scavenges spend their time on. Summarized as bytes per
// function and per package, like the CPU profile.
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import WebSocket from 'ws'
import { table } from '../lib/report.js'
import { place } from './profile.js'

interface HeapNode { callFrame: { functionName: string, url: string, lineNumber: number }, selfSize: number, children: HeapNode[] }

/** A free TCP port on 127.0.0.1 for `--inspect=127.0.0.1:<port>` (the inspector cannot report a port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

async function connect(port: number) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json`)).json() as Array<{ webSocketDebuggerUrl: string }>
  const ws = new WebSocket(target!.webSocketDebuggerUrl)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const pending = new Map<number, (result: unknown) => void>()
  let next = 0
  ws.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as { id?: number, result?: unknown }
    if (reply.id !== undefined) { pending.get(reply.id)?.(reply.result); pending.delete(reply.id) }
  })
  return {
    call: <T>(method: string, params: object = {}) => new Promise<T>((resolve) => {
      const id = ++next
      pending.set(id, resolve as (result: unknown) => void)
      ws.send(JSON.stringify({ id, method, params }))
    }),
    close: () => ws.close(),
  }
}

/**
 * Samples the allocations of the process inspected on `port` for `ms`; bytes in all, a summary
 * table, and how much `count` (e.g. a counter of the process's messages) grew between the start
 * and the end of the sampling, so that bytes and work come from the same window.
 */
export async function sampleAllocations(port: number, ms: number, count: () => Promise<number>, top = 15): Promise<{ bytes: number, counted: number, summary: string }> {
  const session = await connect(port)
  try {
    await session.call('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
    const first = await count()
    await new Promise((r) => setTimeout(r, ms))
    const counted = await count() - first
    const { profile } = await session.call<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling')
    const fn = new Map<string, number>(), pkg = new Map<string, number>()
    let bytes = 0
    const walk = (n: HeapNode) => {
      const where = place(n.callFrame.url)
      const name = `${n.callFrame.functionName || '(anonymous)'} ${where}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`
      fn.set(name, (fn.get(name) ?? 0) + n.selfSize)
      pkg.set(where, (pkg.get(where) ?? 0) + n.selfSize)
      bytes += n.selfSize
      n.children.forEach(walk)
    }
    walk(profile.head)
    const rows = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, b]) => [k, `${(100 * b / bytes).toFixed(1)}%`])
    return { bytes, counted, summary: `${table(['function', 'allocated'], rows(fn))}\n\n${table(['where', 'allocated'], rows(pkg))}` }
  } finally {
    session.close()
  }
}
