// Preloaded (`--import`) into the process under test, ReTrack's own src/main.ts or the bare Aedes
// broker, so both are measured alike and ReTrack runs unmodified: on an IPC request it forces a
// full GC (the process is started with --expose-gc) so RSS is read after garbage, not before.
// A ReTrack supervisor (WORKERS > 1) passes the request on to its workers (which load this hook
// too, through the inherited --import) and answers once they all have.
// Only V8's own counters are read here: at the open-file limit the process cannot open /proc.
import cluster from 'node:cluster'
import v8 from 'node:v8'
import type { GcDone, GcRequest } from './protocol.js'

const gc = (globalThis as { gc?: () => void }).gc

/** twice: the first pass can leave work (weak callbacks, finalizers) for a second to free */
const collect = () => new Promise<void>((resolve) => { gc?.(); setImmediate(() => { gc?.(); resolve() }) })

function workersCollect(): Promise<unknown> {
  const workers = cluster.isPrimary ? Object.values(cluster.workers ?? {}).filter((w) => w !== undefined) : []
  return Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    const onMessage = (m: GcDone) => { if (m.type === 'gc-done') { w.off('message', onMessage); resolve() } }
    w.on('message', onMessage)
    w.send({ type: 'gc' } satisfies GcRequest)
  })))
}

process.on('message', (message: GcRequest) => {
  if (message.type !== 'gc') return
  void Promise.all([workersCollect(), collect()]).then(() => {
    const reply: GcDone = { type: 'gc-done', forced: gc !== undefined, heapUsedBytes: v8.getHeapStatistics().used_heap_size }
    process.send?.(reply)
  })
})
// the channel must not keep a process alive that would otherwise exit
process.channel?.unref()
