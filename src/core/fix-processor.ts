// The contract every feature processor and detector implements, and the events they emit: the
// pipeline (pipeline.ts) runs them fix by fix on the asset's state once the fix passed the stages.
import type { Fix } from '../contracts/payloads.js'
import type { AssetContext } from './context.js'
import type { CoreEffect } from './effects.js'
import type { AssetState } from './state.js'
import type { DropReason } from './stages/stage.js'

/** An event a processor wants stored and streamed (the store adds id and processing time). */
export interface CoreEvent {
  type: string
  ts: number
  tenantId: string
  deviceId: string
  vehicleId?: string | null
  shipmentId?: string | null
  stopId?: string | null
  payload: Record<string, unknown>
  /** same key, same event: makes replays and retries idempotent */
  dedupeKey: string
}

/** What the asset looked like before this fix (the parts a processor may compare against). */
export type PreviousState = Readonly<Pick<AssetState, 'lastFix' | 'fixCount'>>

export interface ProcessContext {
  readonly fix: Fix
  readonly previous: PreviousState
  /** state being built; processors write their part into next.features[name] */
  readonly next: AssetState
  readonly asset: AssetContext
  /** per-fix notes from earlier processors to later ones (e.g. fence transitions) */
  readonly scratch: Record<string, unknown>
  readonly emit: (event: CoreEvent) => void
  readonly effect: (effect: CoreEffect) => void
}

/** A fix a stateful stage dropped, shown to processors that care (e.g. the GPS jump detector). */
export interface DropContext {
  readonly fix: Fix
  readonly reason: DropReason
  readonly next: AssetState
  readonly asset: AssetContext
  readonly emit: (event: CoreEvent) => void
}

/**
 * A feature or detector. Synchronous by contract: what it needs from outside (fences, the shipment
 * plan) is in `ctx.asset`, loaded once per batch before any processor runs, so a processor is a
 * function of the fix, the state and that context, and a batch runs without yielding.
 */
export interface FixProcessor {
  readonly name: string
  process(ctx: ProcessContext): void
  dropped?(ctx: DropContext): void
}
