import { describe, expect, it } from 'vitest'
import type { Fix } from '../../../src/contracts/payloads.js'
import { noContext } from '../../../src/core/context.js'
import { AssetPipeline, type PipelineHooks } from '../../../src/core/pipeline.js'
import { PipelineClosed } from '../../../src/core/pipeline-failures.js'
import type { CoreEvent, FixProcessor } from '../../../src/core/fix-processor.js'
import { statefulStages } from '../../../src/core/stages/stateful.js'
import { MemoryStateStore } from '../../../src/state/memory.js'

const settings = { maxFutureMs: 300_000, maxAgeMs: 86_400_000, maxAccuracyM: 1000, maxSpeedMps: 85 }
const fix = (deviceId: string, ts: number, lat = 50 + ts * 1e-7): Fix => ({ tenantId: 't', deviceId, ts, receivedAt: ts, lat, lon: 8 })

function recorder() {
  const dropped: Array<{ ts: number, reason: string }> = []
  const events: CoreEvent[] = []
  const hooks: PipelineHooks = {
    dropped: (f, reason) => dropped.push({ ts: f.ts, reason }),
    accepted: () => undefined,
    events: (e) => { events.push(...e) },
  }
  return { dropped, events, hooks }
}

/** Emits an event each time the asset's count of fixes crosses a multiple of 10. */
const everyTenth: FixProcessor = {
  name: 'tenth',
  process(ctx) {
    if ((ctx.previous.fixCount + 1) % 10 === 0) ctx.emit({ type: 'tenth', ts: ctx.fix.ts, tenantId: 't', deviceId: ctx.fix.deviceId, payload: {}, dedupeKey: `tenth:${ctx.fix.ts}` })
  },
}

describe('AssetPipeline', () => {
  it('applies one asset\'s fixes in event-time order whatever order they arrive in', async () => {
    const store = new MemoryStateStore()
    const r = recorder()
    const pipeline = new AssetPipeline(store, statefulStages, [], settings, r.hooks)
    await pipeline.submit([fix('a', 3000), fix('a', 1000), fix('a', 2000)])
    expect(await store.get({ tenantId: 't', deviceId: 'a' })).toMatchObject({ fixCount: 3, lastFix: { ts: 3000 } })
    expect(r.dropped).toEqual([])
  })

  it('a late batch changes nothing and fires nothing', async () => {
    const store = new MemoryStateStore()
    const r = recorder()
    const pipeline = new AssetPipeline(store, statefulStages, [everyTenth], settings, r.hooks)
    await pipeline.submit(Array.from({ length: 5 }, (_, i) => fix('a', 100_000 + i * 1000)))
    const before = await store.get({ tenantId: 't', deviceId: 'a' })
    await pipeline.submit(Array.from({ length: 20 }, (_, i) => fix('a', 10_000 + i * 1000)))
    expect(await store.get({ tenantId: 't', deviceId: 'a' })).toEqual(before)
    expect(r.events).toEqual([])
    expect(r.dropped.filter((d) => d.reason === 'late')).toHaveLength(20)
  })

  it('two nodes on one store lose no update and hand over each event under one dedupe key', async () => {
    const store = new MemoryStateStore()
    const a = recorder()
    const b = recorder()
    const nodeA = new AssetPipeline(store, statefulStages, [everyTenth], settings, a.hooks)
    const nodeB = new AssetPipeline(store, statefulStages, [everyTenth], settings, b.hooks)
    // the asset's fixes land on both nodes, interleaved, in increasing event time per node
    const work: Array<Promise<void>> = []
    for (let i = 0; i < 100; i++) work.push((i % 2 === 0 ? nodeA : nodeB).submit([fix('x', 1_000_000 + i * 1000)]))
    await Promise.all(work)
    const state = await store.get({ tenantId: 't', deviceId: 'x' })
    // every fix either applied or refused as late because the other node had applied a newer one
    const late = a.dropped.length + b.dropped.length
    expect(state!.fixCount + late).toBe(100)
    expect(state!.lastFix?.ts).toBe(1_000_000 + 99 * 1000)
    // a node that reads the other's state before that one's next write sees its outbox and hands
    // the events over again: the same events under the same keys, which the event store keeps once
    const all = [...a.events, ...b.events]
    const byKey = new Map(all.map((e) => [e.dedupeKey, e]))
    expect(byKey.size).toBe(Math.floor(state!.fixCount / 10))
    for (const e of all) expect(e).toEqual(byKey.get(e.dedupeKey))
  })

  it('keeps assets independent: a slow asset does not hold up another', async () => {
    const store = new MemoryStateStore()
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    // the slow asset's context takes until the gate opens (a database read, say)
    const contexts = { load: async (key: { deviceId: string }) => { if (key.deviceId === 'slow') await gate; return noContext } }
    const pipeline = new AssetPipeline(store, statefulStages, [], settings, recorder().hooks, contexts)
    const slowDone = pipeline.submit([fix('slow', 1000)])
    await pipeline.submit([fix('fast', 1000)])
    expect(await store.get({ tenantId: 't', deviceId: 'fast' })).toMatchObject({ fixCount: 1 })
    expect(await store.get({ tenantId: 't', deviceId: 'slow' })).toBeNull()
    release()
    await slowDone
    expect(await store.get({ tenantId: 't', deviceId: 'slow' })).toMatchObject({ fixCount: 1 })
  })

  it('gives processors the asset context whether the loader answers at once or with a promise', async () => {
    const seen: Array<string | null> = []
    const vehicle: FixProcessor = { name: 'vehicle', process: (ctx) => { seen.push(ctx.asset.vehicleId) } }
    let calls = 0
    // the first load goes to the database, later ones come from the adapter's cache
    const contexts = { load: () => (++calls === 1 ? Promise.resolve({ ...noContext, vehicleId: 'v1' }) : { ...noContext, vehicleId: 'v1' }) }
    const pipeline = new AssetPipeline(new MemoryStateStore(), statefulStages, [vehicle], settings, recorder().hooks, contexts)
    await pipeline.submit([fix('a', 1000)])
    await pipeline.submit([fix('a', 2000)])
    expect(calls).toBe(2)
    expect(seen).toEqual(['v1', 'v1'])
  })

  it('a node whose event store failed retries until it is back, and stores those events once', async () => {
    const store = new MemoryStateStore()
    const stored: string[] = []
    let failing = true
    const pipeline = new AssetPipeline(store, statefulStages, [everyTenth], settings, {
      dropped: () => undefined, accepted: () => undefined,
      events: (events) => {
        if (failing) throw new Error('event store down')
        stored.push(...events.map((e) => e.dedupeKey))
      },
    }, undefined, { retry: { firstMs: 1, maxMs: 10 } })
    const first = pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('a', 1_000_000 + i * 1000)))
    await new Promise((r) => setTimeout(r, 30))
    expect(pipeline.paused).toBe(true)
    expect(await store.get({ tenantId: 't', deviceId: 'a' })).toMatchObject({ fixCount: 10, outbox: { events: [{ dedupeKey: 'tenth:1009000' }] } })
    failing = false
    await first
    await pipeline.submit(Array.from({ length: 10 }, (_, i) => fix('a', 1_010_000 + i * 1000)))
    expect(stored).toEqual(['tenth:1009000', 'tenth:1019000'])
  })

  it('a node that dies between writing the state and storing its events loses none: the next update of the asset stores them first', async () => {
    const store = new MemoryStateStore()
    // node A writes the state of fixes 1–10 (the 10th fires an event), then stops before it could
    // store the event (its event store down, retried until the node shuts down)
    const dying = new AssetPipeline(store, statefulStages, [everyTenth], settings, {
      dropped: () => undefined, accepted: () => undefined,
      events: () => { throw new Error('event store down until the node stopped') },
    }, undefined, { retry: { firstMs: 1, maxMs: 10 } })
    const lost = dying.submit(Array.from({ length: 10 }, (_, i) => fix('a', 1_000_000 + i * 1000)))
    await new Promise((r) => setTimeout(r, 20))
    expect(await dying.close()).toEqual({ batches: 1, fixes: 10 })
    await expect(lost).rejects.toBeInstanceOf(PipelineClosed)
    const left = await store.get({ tenantId: 't', deviceId: 'a' })
    expect(left).toMatchObject({ fixCount: 10, outbox: { events: [{ type: 'tenth', dedupeKey: 'tenth:1009000' }] } })

    // node B (or A restarted, its cache empty) gets the asset's next fix
    const r = recorder()
    const restarted = new AssetPipeline(store, statefulStages, [everyTenth], settings, r.hooks)
    await restarted.submit([fix('a', 1_010_000)])
    expect(r.events.map((e) => e.dedupeKey)).toEqual(['tenth:1009000'])
    const after = await store.get({ tenantId: 't', deviceId: 'a' })
    expect(after).toMatchObject({ fixCount: 11 })
    expect(after!.outbox).toBeUndefined()
    // and nothing is stored twice afterwards
    await restarted.submit(Array.from({ length: 9 }, (_, i) => fix('a', 1_011_000 + i * 1000)))
    expect(r.events.map((e) => e.dedupeKey)).toEqual(['tenth:1009000', 'tenth:1019000'])
  })

  it('below(limit) holds its callers while the backlog is at or above the limit, and releases each limit once the backlog drops under it', async () => {
    const store = new MemoryStateStore()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const slow: FixProcessor = { name: 'slow', process: () => undefined }
    const pipeline = new AssetPipeline(store, statefulStages, [slow], settings, recorder().hooks, { load: () => gate.then(() => ({ vehicleId: null, fences: null, shipment: null })) })
    const work = Array.from({ length: 5 }, (_, i) => pipeline.submit([fix(`d${i}`, 1000)]))
    expect(pipeline.backlog).toBe(5)
    const woken: string[] = []
    // thousands of publishes wait at the same limit under backpressure; one waits at a lower one
    const waiting = Array.from({ length: 2000 }, () => pipeline.below(3).then(() => { woken.push('3') }))
    const low = pipeline.below(1).then(() => { woken.push('1') })
    await Promise.resolve()
    expect(woken).toEqual([])
    await expect(pipeline.below(6)).resolves.toBeUndefined() // under its limit already
    release()
    await Promise.all([...work, ...waiting, low])
    expect(pipeline.backlog).toBe(0)
    expect(woken.filter((w) => w === '3')).toHaveLength(2000)
    expect(woken).toContain('1')
  })
})
