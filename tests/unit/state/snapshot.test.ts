// The in-memory asset state kept in a file across restarts: what one process wrote another reads
// back with versions intact, an unchanged store is not rewritten, and a broken file is set aside
// with the node starting empty instead of failing.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { emptyState, type AssetState } from '../../../src/core/state.js'
import { MemoryPresenceStore, MemoryStateStore } from '../../../src/state/memory.js'
import { SNAPSHOT_FILE, StateSnapshots } from '../../../src/state/snapshot.js'

const log = pino({ level: 'silent' })
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
const folder = () => { const d = mkdtempSync(path.join(tmpdir(), 'retrack-snap-')); dirs.push(d); return d }

const withFix = (deviceId: string, ts: number): AssetState => ({
  ...emptyState('t1', deviceId), fixCount: 1, lastFix: { ts, receivedAt: ts, lat: 45, lon: 4 },
})

describe('asset state snapshots', () => {
  it('a new store reads back what the last one wrote, versions and all; the file is private', async () => {
    const file = path.join(folder(), 'sub', SNAPSHOT_FILE)
    const before = new MemoryStateStore()
    expect(await before.compareAndSet(withFix('d1', 1000), 0)).toBe('ok')
    expect(await before.compareAndSet({ ...withFix('d1', 2000), version: 1 }, 1)).toBe('ok')
    expect(await before.compareAndSet(withFix('d2', 500), 0)).toBe('ok')
    await new StateSnapshots(file, { state: before, presence: new MemoryPresenceStore() }, log).stop()
    expect(statSync(file).mode & 0o777).toBe(0o600)

    const after = new MemoryStateStore()
    expect(await new StateSnapshots(file, { state: after, presence: new MemoryPresenceStore() }, log).load()).toBe(2)
    expect(await after.get({ tenantId: 't1', deviceId: 'd1' })).toMatchObject({ version: 2, lastFix: { ts: 2000 } })
    // the compare-and-set goes on from the restored version, and still refuses to move back in time
    expect(await after.compareAndSet(withFix('d1', 3000), 1)).toBe('conflict')
    expect(await after.compareAndSet({ ...withFix('d1', 1500), version: 2 }, 2)).toBe('stale')
    expect(await after.compareAndSet({ ...withFix('d1', 3000), version: 2 }, 2)).toBe('ok')
  })

  it('writes only when something changed', async () => {
    const file = path.join(folder(), SNAPSHOT_FILE)
    const store = new MemoryStateStore()
    const snapshots = new StateSnapshots(file, { state: store, presence: new MemoryPresenceStore() }, log)
    await snapshots.save()
    expect(existsSync(file)).toBe(false)
    await store.compareAndSet(withFix('d1', 1000), 0)
    await snapshots.save()
    const written = statSync(file).mtimeMs
    await new Promise((resolve) => setTimeout(resolve, 20))
    await snapshots.save()
    expect(statSync(file).mtimeMs).toBe(written)
  })

  it('an offline sweep that found nobody silent is no change to write', async () => {
    const file = path.join(folder(), SNAPSHOT_FILE)
    const presence = new MemoryPresenceStore()
    await presence.settle([])
    expect(await presence.silentSince(Date.now(), 10)).toEqual([])
    await new StateSnapshots(file, { state: new MemoryStateStore(), presence }, log).save()
    expect(existsSync(file)).toBe(false)
  })

  it('keeps when each device was last seen, and puts every device back offline but still watched', async () => {
    const file = path.join(folder(), SNAPSHOT_FILE)
    const presence = new MemoryPresenceStore()
    const key = { tenantId: 't1', deviceId: 'd1' }
    await presence.connected(key, 'd1#1', 5000)
    presence.seen(key, 6000, 5500)
    await new StateSnapshots(file, { state: new MemoryStateStore(), presence }, log).stop()

    const after = new MemoryPresenceStore()
    await new StateSnapshots(file, { state: new MemoryStateStore(), presence: after }, log).load()
    expect((await after.get([key])).get('d1')).toEqual({ online: false, connection: null, lastSeenAt: 6000, lastFixAt: 5500 })
    expect(await after.silentSince(7000, 10)).toEqual([key]) // the sweep reports it offline if it does not come back
  })

  it('sets a broken file aside and starts empty', async () => {
    const dir = folder()
    const file = path.join(dir, SNAPSHOT_FILE)
    writeFileSync(file, '{"format":1,"states":[["t1:d1",{"version":')
    const store = new MemoryStateStore()
    expect(await new StateSnapshots(file, { state: store, presence: new MemoryPresenceStore() }, log).load()).toBe(0)
    expect(existsSync(file)).toBe(false)
    expect(readdirSync(dir).some((f) => f.startsWith(`${SNAPSHOT_FILE}.unreadable-`))).toBe(true)
    expect(await store.get({ tenantId: 't1', deviceId: 'd1' })).toBeNull()
  })
})
