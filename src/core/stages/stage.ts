// A pipeline stage looks at one fix (and, for stateful stages, the asset's state) and either keeps
// it or drops it with a reason. Stages run in the order they are declared; the first drop wins.
import type { Fix } from '../../contracts/payloads.js'
import type { AssetState } from '../state.js'

export type DropReason =
  | 'invalid' | 'null_island' | 'future' | 'too_old' | 'poor_accuracy' | 'duplicate' | 'impossible_jump' | 'late'

export type StageResult = { ok: true } | { ok: false, reason: DropReason, detail?: string }

export const keep: StageResult = { ok: true }
export const drop = (reason: DropReason, detail?: string): StageResult => ({ ok: false, reason, ...(detail ? { detail } : {}) })

export interface FilterSettings {
  maxFutureMs: number
  maxAgeMs: number
  maxAccuracyM: number
  maxSpeedMps: number
}

/** Judges a fix on its own: runs before the durable write, so dropped fixes are never stored. */
export interface StatelessStage {
  readonly name: string
  check(fix: Fix, now: number, settings: FilterSettings): StageResult
}

/** Judges a fix against the asset's state: runs per asset, in event-time order, after the write. */
export interface StatefulStage {
  readonly name: string
  check(fix: Fix, state: AssetState, settings: FilterSettings): StageResult
}
