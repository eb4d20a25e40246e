// Per-asset state: what the pipeline knows about one device between fixes. Stored as one document
// per device behind the AssetStateStore port; `version` makes every update a compare-and-set.
import type { Fix } from '../contracts/payloads.js'
import type { CoreEffect } from './effects.js'
import type { CoreEvent } from './fix-processor.js'

/** The part of a fix that state keeps (no tenant/device: the key has them). */
export type LastFix = Omit<Fix, 'tenantId' | 'deviceId'>

export interface AssetState {
  tenantId: string
  deviceId: string
  /** 0 before the first write; the store increments it on every successful compare-and-set */
  version: number
  lastFix: LastFix | null
  /** accepted fixes applied so far */
  fixCount: number
  /** the last fix a stateful stage dropped, to explain a silent device */
  lastDrop: LastDrop | null
  /** per-feature state of the processing core (geofence membership, dwell timers, ETA inputs, detectors) */
  features: Record<string, unknown>
  /**
   * The events and effects of the update that wrote this state, until they are stored. Written in
   * the same compare-and-set as the state, so a process that dies between the two leaves them
   * here, and whoever next updates the asset stores them first (their dedupe keys make that safe).
   */
  outbox?: Outbox
}

export interface LastDrop {
  reason: string
  ts: number
  /**
   * impossible jumps only: where the dropped fix was, and how many dropped fixes in a row (since
   * `since`, none accepted in between) agree with each other, so the impossible-jump stage can tell
   * a glitch from a wrong last fix (see stages/stateful.ts)
   */
  jump?: { lat: number, lon: number, accuracy: number | null, streak: number, since: number }
}

export interface Outbox { events: CoreEvent[], effects: CoreEffect[] }

export function emptyState(tenantId: string, deviceId: string): AssetState {
  return { tenantId, deviceId, version: 0, lastFix: null, fixCount: 0, lastDrop: null, features: {} }
}

export function toLastFix(fix: Fix): LastFix {
  const { tenantId: _t, deviceId: _d, ...rest } = fix
  return rest
}
