// What the pipeline does when its I/O fails (the state store, the context loader, the event store:
// retried, the asset's order kept, counted in the backlog, one log line each way) and when its own
// code throws (a bug: given up at once, logged and counted). The store is the real memory store
// behind a small decorator that fails the calls it is told to, as Redis does during an outage.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import type { Fix } from '../../../src/contracts/payloads.js'
import { noContext, type AssetContextLoader } from '../../../src/core/context.js'
import { AssetPipeline, type PipelineHooks, type PipelineOptions } from '../../../src/core/pipeline.js'
import { PipelineClosed, ProcessingFault } from '../../../src/core/pipeline-failures.js'
import type { CoreEvent, FixProcessor } from '../../../src/core/fix-processor.js'
import type { AssetKey, AssetStateStore, CasResult } from '../../../src/core/ports.js'
import type { AssetState } from '../../../src/core/state.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import { Metrics } from '../../../src/metrics.js'
import { MemoryStateStore } from '../../../src/state/memory.js'

const settings = { maxFutureMs: 300_000, maxAgeMs: 86_400_000, maxAccuracyM: 1000, maxSpeedMps: 85 }
const fix = (deviceId: string, ts: number): Fix => ({ tenantId: 't', deviceId, ts, receivedAt: ts, lat: 50 + ts * 1e-7, lon: 8 })
const key = (deviceId: string): AssetKey => ({ tenantId: 't', deviceId })
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

/** What ioredis throws for a command while Redis is away. */
const outage = () => Object.assign(new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' })

/** The memory store, failing every call for which `fails` says so (per device, per operation). */
class FailingStore implements AssetStateStore {
  calls = 0
  constructor(readonly inner: MemoryStateStore, public fails: (op: 'get' | 'cas', deviceId: string) => boolean) {}
  get(k: AssetKey): Promise<AssetState | null> {
    this.calls++
    return this.fails('get', k.deviceId) ? Promise.reject(outage()) : this.inner.get(k)
  }
  getMany(keys: AssetKey[]): Promise<Array<AssetState | null>> { return Promise.all(keys.map((k) => this.get(k))) }
  compareAndSet(next: AssetState, expected: number): Promise<CasResult> {
    this.calls++
    return this.fails('cas', next.deviceId) ? Promise.reject(outage()) : this.inner.compareAndSet(next, expected)
  }
  close() { return this.inner.close() }
}

/** Fails the first `n` calls (of any device), then works. */
const firstCalls = (n: number) => { let left = n; return () => left-- > 0 }

const everyTenth: FixProcessor = {
  name: 'tenth',
  process(ctx) {
    if ((ctx.previous.fixCount + 1) % 10 === 0) ctx.emit({ type: 'tenth', ts: ctx.fix.ts, tenantId: 't', deviceId: ctx.fix.deviceId, payload: {}, dedupeKey: `tenth:${ctx.fix.deviceId}:${ctx.fix.ts}` })
  },
}

function rig(store: AssetStateStore, processors: FixProcessor[] = [everyTenth], hooks: Partial<PipelineHooks> = {}, options: PipelineOptions = {}, contexts: AssetContextLoader = { load: () => noContext }) {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } }))
  const metrics = new Metrics({ defaultMetrics: false })
  const accepted: Array<{ deviceId: string, ts: number }> = []
  const events: CoreEvent[] = []
  const dropped: Array<{ ts: number, reason: string }> = []
  const pipeline = new AssetPipeline(store, statefulStages, processors, settings, {
    dropped: (f, reason) => { dropped.push({ ts: f.ts, reason }) },
    accepted: (fixes) => { accepted.push(...fixes.map((f) => ({ deviceId: f.deviceId, ts: f.ts }))) },
    events: (e) => { events.push(...e) },
    ...hooks,
  }, contexts, {
    log, retry: { firstMs: 2, maxMs: 20 },
    metrics: { retried: metrics.pipelineRetried, failed: metrics.pipelineFailed, paused: metrics.pipelinePaused },
    ...options,
  })
  const count = async (name: 'pipelineRetried' | 'pipelineFailed' | 'pipelinePaused') => (await metrics[name].get()).values[0]?.value ?? 0
  return { pipeline, lines, accepted, events, dropped, count, messages: () => lines.map((l) => String(l['msg'])) }
}

describe('AssetPipeline on failing I/O', () => {
  it('retries a batch whose state store failed: applied once, in order, behind it the asset\'s later batches wait', async () => {
    const memory = new MemoryStateStore()
    let down = true
    const store = new FailingStore(memory, () => down)
    const r = rig(store)
    // 30 fixes of one asset in 6 messages, all while the store is down: they queue behind the first
    const work = Array.from({ length: 6 }, (_, m) => r.pipeline.submit(Array.from({ length: 5 }, (_, i) => fix('a', 1_000_000 + (m * 5 + i) * 1000))))
    await tick(60)
    expect(r.pipeline.paused).toBe(true)
    expect(r.pipeline.backlog).toBe(30) // still counted: backpressure holds the acknowledgements
    expect(await r.count('pipelinePaused')).toBe(1)
    let released = false
    const below = r.pipeline.below(10).then(() => { released = true })
    await tick(20)
    expect(released).toBe(false)
    down = false
    await Promise.all([...work, below])
    expect(r.pipeline.paused).toBe(false)
    expect(r.pipeline.backlog).toBe(0)
    const state = await memory.get(key('a'))
    expect(state).toMatchObject({ fixCount: 30, lastFix: { ts: 1_000_000 + 29 * 1000 } })
    // every fix accepted exactly once, in event time; nothing dropped as late or duplicate
    expect(r.accepted.map((a) => a.ts)).toEqual(Array.from({ length: 30 }, (_, i) => 1_000_000 + i * 1000))
    expect(r.dropped).toEqual([])
    expect(r.events.map((e) => e.dedupeKey)).toEqual(['tenth:a:1009000', 'tenth:a:1019000', 'tenth:a:1029000'])
    // one line when it paused, one when it resumed, nothing per batch or attempt
    expect(r.messages()).toEqual(['state store or database unavailable: processing paused, retrying', 'state store or database back: processing resumed'])
    expect(r.lines[0]).toMatchObject({ level: 40, err: expect.stringMatching(/max retries per request/) })
    expect(r.lines[0]!['err']).not.toMatch(/\n\s+at /) // the message, not a stack
    expect(r.lines[1]).toMatchObject({ level: 30, batches: expect.any(Number), fixes: expect.any(Number), ms: expect.any(Number) })
    expect(r.lines[1]!['fixes']).toBeGreaterThanOrEqual(5)
    expect(await r.count('pipelineRetried')).toBe(r.lines[1]!['batches'])
    expect(await r.count('pipelinePaused')).toBe(0)
    expect(await r.count('pipelineFailed')).toBe(0)
  })

  it('a compare-and-set that fails is retried from the stored state; other assets go on meanwhile', async () => {
    const memory = new MemoryStateStore()
    let aDown = true
    const store = new FailingStore(memory, (op, deviceId) => deviceId === 'a' && op === 'cas' && aDown)
    const r = rig(store)
    const first = r.pipeline.submit([fix('a', 1_000_000)]) // its write fails: retried, holding the asset
    const later = r.pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('a', 2_000_000 + i * 1000)))
    await r.pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('b', 2_000_000 + i * 1000)))
    expect(await memory.get(key('b'))).toMatchObject({ fixCount: 10 })
    expect(await memory.get(key('a'))).toBeNull()
    expect(r.events.map((e) => e.dedupeKey)).toEqual(['tenth:b:2009000'])
    aDown = false
    await Promise.all([first, later])
    expect(await memory.get(key('a'))).toMatchObject({ fixCount: 11 })
    expect(r.accepted.filter((x) => x.deviceId === 'a').map((x) => x.ts)).toEqual([1_000_000, ...Array.from({ length: 10 }, (_, i) => 2_000_000 + i * 1000)])
    expect(r.events.map((e) => e.dedupeKey).sort()).toEqual(['tenth:a:2008000', 'tenth:b:2009000'])
  }, 10_000)

  it('an event store that fails is retried: the state is written once, its events stored once, nothing reported twice', async () => {
    const memory = new MemoryStateStore()
    const fails = firstCalls(4)
    const stored: string[] = []
    let calls = 0
    const r = rig(memory, [everyTenth], {
      events: (events) => {
        calls++
        if (fails()) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
        stored.push(...events.map((e) => e.dedupeKey))
      },
    })
    await r.pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('a', 1_000_000 + i * 1000)))
    expect(calls).toBe(5)
    expect(stored).toEqual(['tenth:a:1009000'])
    // the retries stored the outbox only: the fixes were not run again (no duplicates reported)
    expect(r.dropped).toEqual([])
    expect(r.accepted).toHaveLength(10)
    const state = await memory.get(key('a'))
    expect(state).toMatchObject({ fixCount: 10, version: 1 })
    expect(state!.outbox).toMatchObject({ events: [{ dedupeKey: 'tenth:a:1009000' }] }) // as written; the next write clears it
    await r.pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('a', 1_010_000 + i * 1000)))
    expect(stored).toEqual(['tenth:a:1009000', 'tenth:a:1019000'])
    expect(r.messages()).toEqual(['state store or database unavailable: processing paused, retrying', 'state store or database back: processing resumed'])
  })

  it('a context loader (the database) that fails is retried', async () => {
    const memory = new MemoryStateStore()
    const fails = firstCalls(3)
    const r = rig(memory, [], {}, {}, { load: () => fails() ? Promise.reject(new Error('Connection terminated unexpectedly')) : noContext })
    await r.pipeline.submit([fix('a', 1000), fix('a', 2000)])
    expect(await memory.get(key('a'))).toMatchObject({ fixCount: 2 })
    expect(r.accepted).toHaveLength(2)
    expect(await r.count('pipelineRetried')).toBe(1)
    expect(r.messages()).toEqual(['state store or database unavailable: processing paused, retrying', 'state store or database back: processing resumed'])
    expect(r.lines[1]).toMatchObject({ batches: 1, fixes: 2 })
  })

  it('a processor that throws is a bug: not retried, counted, logged once with the asset; the asset\'s next batch goes on', async () => {
    const memory = new MemoryStateStore()
    let calls = 0
    const buggy: FixProcessor = {
      name: 'buggy',
      process(ctx) { calls++; if (ctx.fix.ts === 5000) throw new TypeError('Cannot read properties of undefined (reading \'stops\')') },
    }
    const r = rig(memory, [buggy])
    const failed = r.pipeline.submit([fix('a', 5000)])
    await expect(failed).rejects.toBeInstanceOf(ProcessingFault)
    await expect(failed).rejects.toThrow(/a stage or processor threw: Cannot read properties/)
    expect(calls).toBe(1)
    await expect(r.pipeline.submit([fix('a', 5000)])).rejects.toBeInstanceOf(ProcessingFault)
    await r.pipeline.submit([fix('a', 6000)])
    expect(await memory.get(key('a'))).toMatchObject({ fixCount: 1, lastFix: { ts: 6000 } })
    expect(calls).toBe(3)
    expect(await r.count('pipelineFailed')).toBe(2)
    expect(await r.count('pipelineRetried')).toBe(0)
    // the same fault twice in a row: one line (with the asset and the stack), not one per batch
    const errors = r.lines.filter((l) => l['level'] === 50)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ tenant: 't', device: 'a', fixes: 1, err: { type: 'ProcessingFault' } })
    expect(r.messages().filter((m) => /paused/.test(m))).toEqual([])
  })

  it('a port throwing a programming error (a state that does not serialize) is not retried either', async () => {
    const memory = new MemoryStateStore()
    const store = new FailingStore(memory, () => false)
    store.compareAndSet = () => Promise.reject(new TypeError('Do not know how to serialize a BigInt'))
    const r = rig(store)
    await expect(r.pipeline.submit([fix('a', 1000)])).rejects.toThrow(/BigInt/)
    expect(await r.count('pipelineFailed')).toBe(1)
    expect(await r.count('pipelineRetried')).toBe(0)
  })

  it('close() during an outage ends the retries at once and gives up the queue, saying how many fixes were left', async () => {
    const memory = new MemoryStateStore()
    const store = new FailingStore(memory, () => true)
    const r = rig(store, [everyTenth], {}, { retry: { firstMs: 60_000, maxMs: 60_000 } })
    const work = [
      r.pipeline.submit([fix('a', 1000), fix('a', 2000)]),
      r.pipeline.submit([fix('a', 3000)]),
      r.pipeline.submit([fix('b', 1000)]),
    ]
    const settled = Promise.allSettled(work)
    await tick(20)
    expect(r.pipeline.paused).toBe(true)
    const started = Date.now()
    expect(await r.pipeline.close()).toEqual({ batches: 3, fixes: 4 })
    expect(Date.now() - started).toBeLessThan(1000) // not the 60 s backoff
    for (const s of await settled) expect(s).toMatchObject({ status: 'rejected', reason: expect.any(PipelineClosed) })
    expect(r.pipeline.backlog).toBe(0)
    expect(r.lines.at(-1)).toMatchObject({ level: 40, batches: 3, fixes: 4, msg: expect.stringMatching(/^pipeline closed with fixes left unprocessed/) })
    expect(r.messages().filter((m) => /resumed/.test(m))).toEqual([])
    expect(await r.count('pipelinePaused')).toBe(0)
  })

  it('close() without an outage processes what is queued, as idle() did', async () => {
    const memory = new MemoryStateStore()
    const r = rig(memory)
    const work = r.pipeline.submit(Array.from({ length: 20 }, (_, i) => fix('a', 1000 + i * 1000)))
    expect(await r.pipeline.close()).toEqual({ batches: 0, fixes: 0 })
    await work
    expect(await memory.get(key('a'))).toMatchObject({ fixCount: 20 })
    expect(r.lines).toEqual([])
  })
})
