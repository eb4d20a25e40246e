// The per-asset pipeline that runs after a batch of fixes is durable: fixes of one asset are taken
// in event-time order under that asset's queue, judged by the stateful stages, then every feature
// processor (geofences, milestones, ETA, anomalies) updates the asset's state and may emit events.
// The new state is written with compare-and-set; on a conflict (another node wrote first) the
// whole group is recomputed from the fresh state, and events are released only after a successful
// write, so a retry never emits twice and a late fix never fires anything. The events and effects
// ride in that same write (the state's outbox) until they are stored: a crash between the state
// and the events loses nothing, the next update of the asset stores them first.
import type { Fix } from '../contracts/payloads.js'
import type { AssetKey, AssetStateStore } from './ports.js'
import { noContext, type AssetContext, type AssetContextLoader } from './context.js'
import type { CoreEffect } from './effects.js'
import { emptyState, toLastFix, type AssetState, type Outbox } from './state.js'
import type { DropReason, FilterSettings, StatefulStage } from './stages/stage.js'
import { lastDropOf } from './stages/stateful.js'
import { KeyedQueue } from './keyed-queue.js'

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

export interface PipelineHooks {
  dropped(fix: Fix, reason: DropReason, detail?: string): void
  accepted(fixes: Fix[], state: AssetState): void
  events(events: CoreEvent[]): Promise<void> | void
  effects?(effects: CoreEffect[]): Promise<void> | void
}

/** Changes state outside a fix (a wall-clock sweep); may emit events. Return false to change nothing. */
export type StateUpdate = (next: AssetState, emit: (event: CoreEvent) => void, asset: AssetContext) => boolean

const MAX_ATTEMPTS = 10
/** assets whose last written state this node keeps (about 1 KB each) */
const MAX_REMEMBERED = 50_000

export class AssetPipeline {
  private readonly written = new Map<string, AssetState>()
  private queued = 0
  /** resolvers of `below(limit)`, by limit: under backpressure thousands wait on one or two limits */
  private readonly waiters = new Map<number, Array<() => void>>()
  private readonly queue = new KeyedQueue<Fix>((_id, fixes) => {
    fixes.sort((a, b) => a.ts - b.ts)
    return this.process({ tenantId: fixes[0]!.tenantId, deviceId: fixes[0]!.deviceId }, fixes)
  })

  constructor(
    private readonly store: AssetStateStore,
    private readonly stages: readonly StatefulStage[],
    private readonly processors: readonly FixProcessor[],
    private readonly settings: FilterSettings,
    private readonly hooks: PipelineHooks,
    private readonly contexts: AssetContextLoader = { load: () => noContext },
  ) {}

  /** Queues fixes (any mix of assets); resolves when all of them are processed. */
  submit(fixes: Fix[]): Promise<void> {
    const groups = new Map<string, Fix[]>()
    for (const fix of fixes) {
      const id = `${fix.tenantId}:${fix.deviceId}`
      const group = groups.get(id)
      if (group) group.push(fix)
      else groups.set(id, [fix])
    }
    this.queued += fixes.length
    const done = () => { this.queued -= fixes.length; this.wakeWaiters() }
    // one device's message is one asset: no Promise.all to allocate for every reading
    const [only] = groups.size === 1 ? groups : []
    const all = only
      ? this.queue.push(...only)
      : Promise.all([...groups].map(([id, group]) => this.queue.push(id, group))).then(() => undefined)
    all.then(done, done)
    return all
  }

  /** Fixes submitted and not yet processed. */
  get backlog(): number { return this.queued }

  /** Resolves once the backlog is below `limit`: the ingestor waits on it before acknowledging, so publishers slow down to what the pipeline keeps up with. */
  below(limit: number): Promise<void> {
    if (this.queued < limit) return Promise.resolve()
    return new Promise((resolve) => {
      const waiting = this.waiters.get(limit)
      if (waiting) waiting.push(resolve)
      else this.waiters.set(limit, [resolve])
    })
  }

  /** Runs after every processed group: a pass over the distinct limits, not over every waiter. */
  private wakeWaiters() {
    if (this.waiters.size === 0) return
    for (const [limit, waiting] of this.waiters) {
      if (this.queued >= limit) continue
      this.waiters.delete(limit)
      for (const resolve of waiting) resolve()
    }
  }

  idle(): Promise<void> { return this.queue.idle() }

  /** Runs `update` on the asset's state under its queue, with the same compare-and-set as fixes. */
  update(key: AssetKey, update: StateUpdate): Promise<void> {
    const id = `${key.tenantId}:${key.deviceId}`
    return this.queue.run(id, async () => {
      const asset = await this.contexts.load(key)
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const next = await this.stateFor(key, id, attempt)
        const version = next.version
        const events: CoreEvent[] = []
        if (!update(next, (e) => events.push(e), asset)) { this.remember(id, next, version); return }
        if (events.length > 0) next.outbox = { events, effects: [] }
        if (await this.store.compareAndSet(next, version) === 'ok') {
          this.remember(id, next, version + 1)
          await this.release(next)
          return
        }
      }
    })
  }

  /**
   * The asset's state to build on, private to this batch. The copy this node wrote last is reused
   * when it has one (no read, no parse: serializing the state was the pipeline's largest cost),
   * and then returned as is, without a promise; when another node wrote since, the
   * compare-and-set says so and the retry reads the store.
   */
  private stateFor(key: AssetKey, id: string, attempt: number): AssetState | Promise<AssetState> {
    const cached = attempt === 1 ? this.written.get(id) : undefined
    this.written.delete(id)
    return cached && !cached.outbox ? cached : this.settled(key, cached)
  }

  /** The state read from the store (or `cached`), its outbox stored first if a writer left one. */
  private async settled(key: AssetKey, cached: AssetState | undefined): Promise<AssetState> {
    const state = cached ?? await this.store.get(key) ?? emptyState(key.tenantId, key.deviceId)
    // left by a writer that stopped before storing them (or failed to): store them before moving on
    if (state.outbox) await this.release(state)
    return state
  }

  /** Stores the outbox of a written state (events, then effects) and empties it. */
  private async release(state: AssetState) {
    const { events, effects }: Outbox = state.outbox ?? { events: [], effects: [] }
    if (events.length > 0) await this.hooks.events(events)
    if (effects.length > 0) await this.hooks.effects?.(effects)
    delete state.outbox
  }

  private remember(id: string, state: AssetState, version: number) {
    if (this.written.size >= MAX_REMEMBERED) this.written.clear()
    state.version = version
    this.written.set(id, state)
  }

  private async process(key: AssetKey, fixes: Fix[]): Promise<void> {
    const id = `${key.tenantId}:${key.deviceId}`
    // the context and the state are nearly always in memory: awaited only when they are not (an
    // await of a value at hand still costs a promise and a microtask, per batch)
    const loading = this.contexts.load(key)
    const asset = loading instanceof Promise ? await loading : loading
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const reading = this.stateFor(key, id, attempt)
      const state = reading instanceof Promise ? await reading : reading
      const version = state.version
      const outcome = this.apply(state, fixes, asset)
      // an impossible jump is kept even when nothing else changed: a run of them is what lets the
      // asset's true position back in after a bad fix (stages/stateful.ts)
      const changed = outcome.accepted.length > 0 || outcome.events.length > 0 || outcome.jumped
      if (changed && (outcome.events.length > 0 || outcome.effects.length > 0)) outcome.state.outbox = { events: outcome.events, effects: outcome.effects }
      if (changed && await this.store.compareAndSet(outcome.state, version) !== 'ok') {
        continue // another writer got there first ('conflict' or 'stale'): recompute from what it wrote
      }
      // unchanged batches may still have noted a drop in the copy: only a written state is kept
      if (changed) this.remember(id, outcome.state, version + 1)
      outcome.drops.forEach((d) => this.hooks.dropped(d.fix, d.reason, d.detail))
      if (!changed) return
      if (outcome.accepted.length > 0) this.hooks.accepted(outcome.accepted, outcome.state)
      if (outcome.state.outbox) await this.release(outcome.state)
      return
    }
    throw new Error(`asset ${key.deviceId}: state kept changing under ${MAX_ATTEMPTS} attempts`)
  }

  private apply(state: AssetState, fixes: Fix[], asset: AssetContext) {
    const accepted: Fix[] = []
    const events: CoreEvent[] = []
    const effects: CoreEffect[] = []
    const drops: Array<{ fix: Fix, reason: DropReason, detail?: string | undefined }> = []
    let jumped = false
    const emit = (e: CoreEvent) => { events.push(e) }
    const effect = (e: CoreEffect) => { effects.push(e) }
    for (const fix of fixes) {
      const verdict = this.judge(fix, state)
      if (verdict) {
        drops.push({ fix, ...verdict })
        if (verdict.reason !== 'late' && verdict.reason !== 'duplicate') {
          // a wrong fix (not merely an old one) is recorded, and shown to processors that watch for it
          state.lastDrop = lastDropOf(state, fix, verdict.reason, this.settings)
          jumped ||= verdict.reason === 'impossible_jump'
          for (const processor of this.processors) processor.dropped?.({ fix, reason: verdict.reason, next: state, asset, emit })
        }
        continue
      }
      // one working copy per batch, changed fix by fix (cloning the state per fix was the
      // pipeline's largest cost, see docs/performance.md); processors compare against `previous`
      const previous: PreviousState = { lastFix: state.lastFix, fixCount: state.fixCount }
      const ctx: ProcessContext = { fix, previous, next: state, asset, scratch: {}, emit, effect }
      for (const processor of this.processors) processor.process(ctx)
      state.lastFix = toLastFix(fix)
      state.fixCount = previous.fixCount + 1
      accepted.push(fix)
    }
    return { state, accepted, events, effects, drops, jumped }
  }

  private judge(fix: Fix, state: AssetState) {
    for (const stage of this.stages) {
      const r = stage.check(fix, state, this.settings)
      if (!r.ok) return { reason: r.reason, detail: r.detail }
    }
    return null
  }
}
