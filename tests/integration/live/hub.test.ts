// The live hub on its real buses (in process, and Redis pub/sub between two hubs): tenant scoping,
// coalesced positions at most once per interval per tenant, isolation of failing subscribers.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { LocalBus, RedisBus, type Bus } from '../../../src/bus/bus.js'
import { LiveHub } from '../../../src/live/hub.js'
import type { LiveFrame } from '../../../src/live/frames.js'
import type { Fix, LivePosition } from '../../../src/contracts/payloads.js'
import type { StoredTrackingEvent } from '../../../src/db/tracking-events.js'
import { silentLog } from '../../helpers/databases.js'
import { eventually } from '../../helpers/server.js'

const event = (tenantId: string, id: number, extra: Partial<StoredTrackingEvent> = {}): StoredTrackingEvent =>
  ({ id, tenantId, type: 'arrived', ts: Date.now(), createdAt: Date.now(), source: 'rule', payload: {}, ...extra })
const fix = (tenantId: string, deviceId: string, ts: number): Fix => ({ tenantId, deviceId, ts, receivedAt: Date.now(), lat: 1, lon: 2 })
const positionsOf = (frames: LiveFrame[]) => frames.flatMap((f) => (f.kind === 'positions' ? [f.positions] : []))

describe('live hub', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c() })
  const hub = (bus: Bus, positionsEveryMs = 100, vehicleOf?: (t: string, d: string) => Promise<string | null>) => {
    const h = new LiveHub({ bus, log: silentLog, positionsEveryMs, ...(vehicleOf ? { vehicleOf } : {}) })
    h.start()
    cleanup.push(() => h.stop())
    return h
  }
  const local = () => {
    const bus = new LocalBus(silentLog)
    cleanup.push(() => bus.close())
    return bus
  }

  it('delivers a tenant\'s frames only to that tenant\'s subscribers, whatever their filters', async () => {
    const h = hub(local())
    const a: LiveFrame[] = []
    const b: LiveFrame[] = []
    h.subscribe('tenant-a', {}, (f) => a.push(f))
    h.subscribe('tenant-b', { positions: true }, (f) => b.push(f))
    h.publishEvents([event('tenant-a', 1), event('tenant-b', 2), event('tenant-a', 3)])
    h.publishPositions([fix('tenant-a', 'd1', 1)])
    await eventually(() => a.length === 2 && b.length === 1)
    await new Promise((r) => setTimeout(r, 250))
    expect(a.map((f) => f.kind === 'event' && f.event.id)).toEqual([1, 3])
    expect(b.map((f) => f.kind === 'event' && f.event.id)).toEqual([2])
  })

  it('coalesces positions to the latest per device, at most once per interval per tenant', async () => {
    const h = hub(local(), 200, async (_t, d) => (d === 'd1' ? 'vehicle-1' : null))
    const frames: LiveFrame[] = []
    h.subscribe('t', { positions: true }, (f) => frames.push(f))
    const started = Date.now()
    for (let i = 0; i < 100; i++) {
      h.publishPositions([fix('t', 'd1', 1000 + i), fix('t', 'd2', 5000 - i)])
      await new Promise((r) => setTimeout(r, 10))
    }
    h.publishPositions([fix('t', 'd2', 1)]) // older than what is held: ignored
    await eventually(() => positionsOf(frames).some((p) => p.some((x) => x.ts === new Date(1099).toISOString())))
    const elapsed = Date.now() - started
    const batches = positionsOf(frames)
    expect(batches.length).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 200))
    expect(batches.every((p) => p.length <= 2 && new Set(p.map((x) => x.deviceId)).size === p.length)).toBe(true)
    const last = new Map<string, LivePosition>()
    for (const p of batches.flat()) last.set(p.deviceId, p)
    expect(last.get('d1')).toMatchObject({ vehicleId: 'vehicle-1', ts: new Date(1099).toISOString() })
    expect(last.get('d2')?.vehicleId).toBeUndefined()
    expect(batches.flat().some((p) => p.ts === new Date(1).toISOString())).toBe(false)
  })

  it('filters positions by device, vehicle and a shipment\'s asset; sends none unless asked', async () => {
    const h = hub(local(), 20, async (_t, d) => (d === 'd2' ? 'v2' : null))
    const got = { device: [] as LiveFrame[], vehicle: [] as LiveFrame[], shipment: [] as LiveFrame[], none: [] as LiveFrame[] }
    h.subscribe('t', { positions: true, deviceId: 'd1' }, (f) => got.device.push(f))
    h.subscribe('t', { positions: true, vehicleId: 'v2' }, (f) => got.vehicle.push(f))
    h.subscribe('t', { positions: true, shipmentId: 's', shipmentAsset: { deviceId: 'd3', vehicleId: 'v2' } }, (f) => got.shipment.push(f))
    h.subscribe('t', {}, (f) => got.none.push(f))
    h.publishPositions([fix('t', 'd1', 1), fix('t', 'd2', 1), fix('t', 'd3', 1), fix('t', 'd4', 1)])
    await eventually(() => got.device.length > 0 && got.vehicle.length > 0 && got.shipment.length > 0)
    const ids = (frames: LiveFrame[]) => positionsOf(frames).flat().map((p) => p.deviceId).sort()
    expect([ids(got.device), ids(got.vehicle), ids(got.shipment), got.none]).toEqual([['d1'], ['d2'], ['d2', 'd3'], []])
  })

  it('keeps delivering when one subscriber throws, flushes positions on stop, and ignores malformed messages', async () => {
    const bus = local()
    const h = new LiveHub({ bus, log: silentLog, positionsEveryMs: 60_000 })
    h.start()
    const frames: LiveFrame[] = []
    h.subscribe('t', {}, () => { throw new Error('broken socket') })
    h.subscribe('t', { positions: true }, (f) => frames.push(f))
    bus.publish('live:events', { tenantId: 't', events: 'nope' })
    bus.publish('live:events', { events: [] })
    h.publishEvents([event('t', 7)])
    await eventually(() => frames.length === 1)
    const onBus: unknown[] = []
    bus.subscribe('live:positions', (m) => onBus.push(m))
    h.publishPositions([fix('t', 'd1', 1)])
    h.publishPositions([fix('t', 'd1', 2)]) // the interval is a minute: only stop() can flush these
    await h.stop()
    await eventually(() => onBus.length === 1)
    expect(onBus[0]).toMatchObject({ tenantId: 't', positions: [{ deviceId: 'd1', ts: new Date(2).toISOString() }] })
    expect(h.subscriberCount).toBe(0)
  })

  describe.runIf(inject('services').redis)('over Redis', () => {
    it('frames published by one node reach subscribers of another, tenant-scoped', async () => {
      const prefix = `retrack-test:${randomBytes(4).toString('hex')}:bus:`
      const redisBus = () => {
        const bus = new RedisBus(inject('services').redisUrl, prefix, silentLog)
        cleanup.push(() => bus.close())
        return bus
      }
      const producer = hub(redisBus(), 50)
      const consumer = hub(redisBus(), 50)
      const a: LiveFrame[] = []
      const b: LiveFrame[] = []
      consumer.subscribe('A', { positions: true }, (f) => a.push(f))
      consumer.subscribe('B', { positions: true }, (f) => b.push(f))
      await eventually(() => {
        producer.publishEvents([event('A', 1)])
        return a.length > 0
      }, 5000, 'the Redis subscription')
      producer.publishPositions([fix('A', 'd1', 10)])
      await eventually(() => positionsOf(a).length === 1)
      expect(positionsOf(a)[0]).toEqual([{ deviceId: 'd1', ts: new Date(10).toISOString(), lat: 1, lon: 2, speed: null, heading: null }])
      expect(b).toEqual([])
    })
  })
})
