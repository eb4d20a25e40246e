// One contract for every asset state store and presence store (like MQTT.js' abstract_store):
// each implementation runs it with a factory in a few lines.
import { describe, expect, it } from 'vitest'
import type { AssetStateStore, PresenceStore } from '../../src/core/ports.js'
import { emptyState, type AssetState } from '../../src/core/state.js'

export interface StoreFactory {
  state(): Promise<AssetStateStore>
  presence(): Promise<PresenceStore>
}

let n = 0
const key = () => ({ tenantId: '00000000-0000-4000-8000-000000000001', deviceId: `dev_contract_${Date.now()}_${++n}` })
const withFix = (s: AssetState, ts: number): AssetState => ({ ...s, lastFix: { ts, receivedAt: ts, lat: 1, lon: 2 }, fixCount: s.fixCount + 1 })

export function stateStoreContract(name: string, factory: StoreFactory) {
  describe(`${name}: asset state store contract`, () => {
    it('returns null for an unknown asset and the document after a first write', async () => {
      const store = await factory.state()
      const k = key()
      expect(await store.get(k)).toBeNull()
      expect(await store.compareAndSet(withFix(emptyState(k.tenantId, k.deviceId), 1000), 0)).toBe('ok')
      const stored = await store.get(k)
      expect(stored).toMatchObject({ ...k, version: 1, fixCount: 1, lastFix: { ts: 1000, lat: 1, lon: 2 } })
    })

    it('increments the version on every write and refuses a write based on an old version', async () => {
      const store = await factory.state()
      const k = key()
      const first = withFix(emptyState(k.tenantId, k.deviceId), 1000)
      expect(await store.compareAndSet(first, 0)).toBe('ok')
      expect(await store.compareAndSet(withFix(first, 2000), 1)).toBe('ok')
      // a writer that read version 1 lost the race
      expect(await store.compareAndSet(withFix(first, 3000), 1)).toBe('conflict')
      // and so does one that thinks the asset is new
      expect(await store.compareAndSet(withFix(first, 4000), 0)).toBe('conflict')
      expect(await store.get(k)).toMatchObject({ version: 2, lastFix: { ts: 2000 } })
    })

    it('never moves the last fix backward in event time, even with the right version', async () => {
      const store = await factory.state()
      const k = key()
      expect(await store.compareAndSet(withFix(emptyState(k.tenantId, k.deviceId), 5000), 0)).toBe('ok')
      expect(await store.compareAndSet(withFix(emptyState(k.tenantId, k.deviceId), 4000), 1)).toBe('stale')
      expect(await store.get(k)).toMatchObject({ version: 1, lastFix: { ts: 5000 } })
    })

    it('two concurrent writers from the same version: exactly one wins', async () => {
      const store = await factory.state()
      const k = key()
      const base = withFix(emptyState(k.tenantId, k.deviceId), 1000)
      expect(await store.compareAndSet(base, 0)).toBe('ok')
      const results = await Promise.all([store.compareAndSet(withFix(base, 2000), 1), store.compareAndSet(withFix(base, 2500), 1)])
      expect(results.sort()).toEqual(['conflict', 'ok'])
      expect((await store.get(k))?.version).toBe(2)
    })

    it('answers each of many writes asked at once, across assets and on one asset, in the order asked', async () => {
      const store = await factory.state()
      const keys = Array.from({ length: 20 }, key)
      const contested = key()
      const base = withFix(emptyState(contested.tenantId, contested.deviceId), 1000)
      const results = await Promise.all([
        ...keys.map((k, i) => store.compareAndSet(withFix(emptyState(k.tenantId, k.deviceId), 1000 + i), 0)),
        store.compareAndSet(base, 0), store.compareAndSet(withFix(base, 2000), 0), store.compareAndSet(withFix(base, 3000), 1),
      ])
      expect(results).toEqual([...keys.map(() => 'ok'), 'ok', 'conflict', 'ok'])
      const stored = await Promise.all(keys.map((k) => store.get(k)))
      expect(stored.map((s) => s?.lastFix?.ts)).toEqual(keys.map((_, i) => 1000 + i))
      expect(await store.get(contested)).toMatchObject({ version: 2, lastFix: { ts: 3000 } })
    })

    it('keeps per-feature state and does not let a caller mutate what is stored', async () => {
      const store = await factory.state()
      const k = key()
      const doc = withFix({ ...emptyState(k.tenantId, k.deviceId), features: { geofences: { inside: ['a'] } } }, 1000)
      await store.compareAndSet(doc, 0)
      const read = await store.get(k)
      ;(read!.features['geofences'] as { inside: string[] }).inside.push('b')
      expect((await store.get(k))!.features).toEqual({ geofences: { inside: ['a'] } })
      expect(await store.getMany([k, key()])).toMatchObject([{ deviceId: k.deviceId }, null])
    })

    it('keeps the outbox written with the state (events and effects not yet stored) until the next write drops it', async () => {
      const store = await factory.state()
      const k = key()
      const outbox = {
        events: [{ type: 'arrived', ts: 1000, tenantId: k.tenantId, deviceId: k.deviceId, stopId: 's1', payload: { stop: { seq: 1 } }, dedupeKey: 'arrived:s1' }],
        effects: [{ kind: 'stop' as const, tenantId: k.tenantId, shipmentId: 'sh', stopId: 's1', status: 'arrived' as const, arrivedAt: 1000 }],
      }
      const first = { ...withFix(emptyState(k.tenantId, k.deviceId), 1000), outbox }
      await store.compareAndSet(first, 0)
      expect((await store.get(k))!.outbox).toEqual(outbox)
      const { outbox: _released, ...next } = withFix(first, 2000)
      await store.compareAndSet(next, 1)
      expect((await store.get(k))!.outbox).toBeUndefined()
    })
  })

  describe(`${name}: presence store contract`, () => {
    it('online from connect until disconnect of the same connection; a stale disconnect changes nothing', async () => {
      const presence = await factory.presence()
      const k = key()
      await presence.connected(k, 'conn-1', 1000)
      await presence.connected(k, 'conn-2', 2000) // reconnected (maybe on another node)
      await presence.disconnected(k, 'conn-1', 2500) // the old connection's late goodbye
      expect((await presence.get([k])).get(k.deviceId)).toMatchObject({ online: true, connection: 'conn-2' })
      await presence.disconnected(k, 'conn-2', 3000)
      expect((await presence.get([k])).get(k.deviceId)).toMatchObject({ online: false, lastSeenAt: 3000 })
    })

    it('a Last Will (no connection) sets offline unconditionally', async () => {
      const presence = await factory.presence()
      const k = key()
      await presence.connected(k, 'conn-1', 1000)
      await presence.disconnected(k, null, 1500)
      expect((await presence.get([k])).get(k.deviceId)?.online).toBe(false)
    })

    it('records activity and lists devices silent since a time, connected or not, until settled', async () => {
      const presence = await factory.presence()
      const quiet = key()
      const busy = key()
      const gone = key()
      await presence.connected(quiet, 'q', 1000)
      await presence.connected(busy, 'b', 1000)
      await presence.connected(gone, 'g', 1000)
      await presence.disconnected(gone, 'g', 1200)
      presence.seen(busy, 9000, 8500)
      await presence.flush()
      const silent = await presence.silentSince(5000, 100000)
      expect(silent).toContainEqual(quiet)
      expect(silent).toContainEqual(gone)
      expect(silent).not.toContainEqual(busy)
      expect((await presence.get([busy])).get(busy.deviceId)).toMatchObject({ lastSeenAt: 9000, lastFixAt: 8500 })
      // once reported, a silent device is not reported again until it is active again
      await presence.settle([quiet, gone])
      expect(await presence.silentSince(5000, 100000)).not.toContainEqual(quiet)
      presence.seen(quiet, 10_000)
      await presence.flush()
      expect(await presence.silentSince(20_000, 100000)).toContainEqual(quiet)
    })
  })
}
