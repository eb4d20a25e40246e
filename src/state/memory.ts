// In-process state: the embedded default. Same contract as Redis (tests/contract runs one suite
// on both); documents are kept as JSON so a caller can never mutate stored state by accident.
import type { AssetKey, AssetStateStore, CasResult, Presence, PresenceStore } from '../core/ports.js'
import type { AssetState } from '../core/state.js'

const id = (k: AssetKey) => `${k.tenantId}:${k.deviceId}`

/** One stored state as a snapshot file keeps it (src/state/snapshot.ts). */
export interface StoredDoc { version: number, ts: number, doc: string }

export class MemoryStateStore implements AssetStateStore {
  private readonly docs = new Map<string, StoredDoc>()
  /** writes since the last snapshot (the snapshot skips a store that has not changed) */
  changes = 0

  /** Every stored state, for a snapshot. */
  entries(): IterableIterator<[string, StoredDoc]> { return this.docs.entries() }

  /** Puts back what a snapshot kept (at start-up, before any write). */
  restore(entries: Iterable<[string, StoredDoc]>): number {
    let n = 0
    for (const [key, doc] of entries) { this.docs.set(key, doc); n++ }
    return n
  }

  async get(key: AssetKey): Promise<AssetState | null> {
    const entry = this.docs.get(id(key))
    return entry ? { ...JSON.parse(entry.doc) as AssetState, version: entry.version } : null
  }

  async getMany(keys: AssetKey[]): Promise<Array<AssetState | null>> {
    return Promise.all(keys.map((k) => this.get(k)))
  }

  async compareAndSet(next: AssetState, expectedVersion: number): Promise<CasResult> {
    const key = id(next)
    const entry = this.docs.get(key)
    if ((entry?.version ?? 0) !== expectedVersion) return 'conflict'
    const ts = next.lastFix?.ts ?? -1
    if (entry && ts < entry.ts) return 'stale'
    this.docs.set(key, { version: expectedVersion + 1, ts, doc: JSON.stringify({ ...next, version: expectedVersion + 1 }) })
    this.changes++
    return 'ok'
  }

  async close(): Promise<void> {}
}

/** What a snapshot keeps of a device's presence: not its connection, which a restart ends. */
export interface StoredPresence { key: AssetKey, lastSeenAt: number | null, lastFixAt: number | null, watched: boolean }

export class MemoryPresenceStore implements PresenceStore {
  private readonly entries = new Map<string, Presence & { key: AssetKey, watched: boolean }>()
  /** updates since the last snapshot */
  changes = 0

  private entry(key: AssetKey) {
    this.changes++
    let e = this.entries.get(id(key))
    if (!e) {
      e = { key, online: false, lastSeenAt: null, lastFixAt: null, connection: null, watched: false }
      this.entries.set(id(key), e)
    }
    return e
  }

  /** Every device's presence, for a snapshot. */
  stored(): StoredPresence[] {
    // the key as given may be a whole principal (the broker's): only the asset's key is kept
    return [...this.entries.values()].map(({ key, lastSeenAt, lastFixAt, watched }) => ({ key: { tenantId: key.tenantId, deviceId: key.deviceId }, lastSeenAt, lastFixAt, watched }))
  }

  /**
   * Puts back what a snapshot kept, every device offline (its connection ended with the process):
   * one still watched and not back within OFFLINE_AFTER_S is reported offline by the sweep.
   */
  restore(stored: Iterable<StoredPresence>): number {
    let n = 0
    for (const { key, lastSeenAt, lastFixAt, watched } of stored) {
      this.entries.set(id(key), { key, online: false, connection: null, lastSeenAt, lastFixAt, watched })
      n++
    }
    return n
  }

  async connected(key: AssetKey, connection: string, at: number): Promise<void> {
    Object.assign(this.entry(key), { online: true, connection, lastSeenAt: at, watched: true })
  }

  async disconnected(key: AssetKey, connection: string | null, at: number): Promise<void> {
    const e = this.entry(key)
    if (connection !== null && e.connection !== connection) return
    Object.assign(e, { online: false, lastSeenAt: Math.max(e.lastSeenAt ?? 0, at) })
  }

  seen(key: AssetKey, at: number, fixTs?: number): void {
    const e = this.entry(key)
    e.watched = true
    e.lastSeenAt = Math.max(e.lastSeenAt ?? 0, at)
    if (fixTs !== undefined) e.lastFixAt = Math.max(e.lastFixAt ?? 0, fixTs)
  }

  async get(keys: AssetKey[]): Promise<Map<string, Presence>> {
    const out = new Map<string, Presence>()
    for (const k of keys) {
      const e = this.entries.get(id(k))
      if (e) out.set(k.deviceId, { online: e.online, lastSeenAt: e.lastSeenAt, lastFixAt: e.lastFixAt, connection: e.connection })
    }
    return out
  }

  async silentSince(before: number, limit: number): Promise<AssetKey[]> {
    const out: AssetKey[] = []
    for (const e of this.entries.values()) {
      if (e.watched && (e.lastSeenAt ?? 0) < before) out.push(e.key)
      if (out.length >= limit) break
    }
    return out
  }

  async settle(keys: AssetKey[]): Promise<void> {
    if (keys.length === 0) return // the sweep's every pass: not a change for the snapshot to write
    this.changes++
    for (const k of keys) {
      const e = this.entries.get(id(k))
      if (e) e.watched = false
    }
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
