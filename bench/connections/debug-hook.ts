// Preloaded (`--import`) into the process under test, ReTrack's own src/main.ts or the bare Aedes
// broker, so both are measured alike and ReTrack runs unmodified: on an IPC request it forces a
// full GC (the process is started with --expose-gc) so RSS is read after garbage, not before.
// Only V8's own counters are read here: at the open-file limit the process cannot open /proc.
import v8 from 'node:v8'
import type { GcDone, GcRequest } from './protocol.js'

const gc = (globalThis as { gc?: () => void }).gc

process.on('message', (message: GcRequest) => {
  if (message.type !== 'gc') return
  // twice: the first pass can leave work (weak callbacks, finalizers) for a second to free
  gc?.()
  setImmediate(() => {
    gc?.()
    const reply: GcDone = { type: 'gc-done', forced: gc !== undefined, heapUsedBytes: v8.getHeapStatistics().used_heap_size }
    process.send?.(reply)
  })
})
// the channel must not keep a process alive that would otherwise exit
process.channel?.unref()
