// What the core needs from the outside world. Adapters (src/state, src/db, src/broker) implement
// these; the core imports no aedes, fastify, prisma or ioredis.
import type { AssetState } from './state.js'

export interface AssetKey { tenantId: string, deviceId: string }

export type CasResult = 'ok' | 'conflict' | 'stale'

export interface AssetStateStore {
  get(key: AssetKey): Promise<AssetState | null>
  getMany(keys: AssetKey[]): Promise<Array<AssetState | null>>
  /**
   * Writes `next` if the stored version still equals `expectedVersion` (0 = absent) and its last
   * fix is not newer than next's: 'conflict' means someone else wrote first (reload and redo),
   * 'stale' means next would move state backward in event time. On 'ok' the stored version is
   * expectedVersion + 1.
   */
  compareAndSet(next: AssetState, expectedVersion: number): Promise<CasResult>
  close(): Promise<void>
}

export interface Presence {
  online: boolean
  /** wall-clock ms of the last packet or connect */
  lastSeenAt: number | null
  /** event time (ms) of the last accepted fix */
  lastFixAt: number | null
  /** which connection set `online`, so a late disconnect from an old connection changes nothing */
  connection: string | null
}

export interface PresenceStore {
  connected(key: AssetKey, connection: string, at: number): Promise<void>
  /** offline only if `connection` is still the current one (null: unconditionally, e.g. Last Will) */
  disconnected(key: AssetKey, connection: string | null, at: number): Promise<void>
  /** records activity; cheap, called on every packet (implementations may coalesce) */
  seen(key: AssetKey, at: number, fixTs?: number): void
  get(keys: AssetKey[]): Promise<Map<string, Presence>>
  /**
   * Devices whose last activity (connect, packet) is older than `before`, connected or not, that
   * have not been settled since (for the offline sweep).
   */
  silentSince(before: number, limit: number): Promise<AssetKey[]>
  /** stops reporting these devices as silent until they are active again */
  settle(keys: AssetKey[]): Promise<void>
  flush(): Promise<void>
  close(): Promise<void>
}
