// The per-asset pipeline that runs after a batch of fixes is durable: fixes of one asset are taken
// in event-time order under that asset's queue, judged by the stateful stages, then every feature
// processor (geofences, milestones, ETA, anomalies) updates the asset's state and may emit events.
// The new state is written with compare-and-set; on a conflict (another node wrote first) the
// whole group is recomputed from the fresh state, and events are released only after a successful
// write, so a retry never emits twice and a late fix never fires anything. The events and effects
// ride in that same write (the state's outbox) until they are stored: a crash between the state
// and the events loses nothing, the next update of the asset stores them first.
//
// Failures come in two kinds, told apart by where they are thrown. The I/O ports (the state store,
// the asset context loader, the events and effects hooks that write to the database) fail when
// Redis or PostgreSQL is away: the batch is retried after a backoff, holding its asset's queue so
// that the asset's order is kept, until it goes through or the pipeline is closed (its fixes are
// stored in PostgreSQL, and while it waits it counts in the backlog, so acknowledgements wait too).
// The pure part (stages, processors, the synchronous hooks) throwing is a bug: retrying would only
// throw again, so the batch is given up, logged and counted once.
import type { Fix } from '../contracts/payloads.js'
import type { AssetKey, AssetStateStore } from './ports.js'
import { noContext, type AssetContext, type AssetContextLoader } from './context.js'
import type { CoreEffect } from './effects.js'
import { emptyState, toLastFix, type AssetState, type Outbox } from './state.js'
import type { DropReason, FilterSettings, StatefulStage } from './stages/stage.js'
import { lastDropOf } from './stages/stateful.js'
import { KeyedQueue } from './keyed-queue.js'
import type { CoreEvent, FixProcessor, PreviousState, ProcessContext } from './fix-processor.js'
import { PipelineClosed, ProcessingFault, incurable, messageOf, type Retry } from './pipeline-failures.js'
import type { Logger } from '../logger.js'

export interface PipelineHooks {
  dropped(fix: Fix, reason: DropReason, detail?: string): void
  accepted(fixes: Fix[], state: AssetState): void
  events(events: CoreEvent[]): Promise<void> | void
  effects?(effects: CoreEffect[]): Promise<void> | void
}

/** Changes state outside a fix (a wall-clock sweep); may emit events and effects. Return false to change nothing. */
export type StateUpdate = (next: AssetState, emit: (event: CoreEvent) => void, asset: AssetContext, effect: (effect: CoreEffect) => void) => boolean

/** What the pipeline counts (prom-client's counters and gauges fit; the core imports none). */
export interface PipelineMetrics {
  /** batches that failed on I/O and were retried (once per batch, however many attempts) */
  retried: { inc(): void }
  /** batches given up for good: a bug (or endless contention), never retried */
  failed: { inc(): void }
  /** 1 while some batch is waiting to be retried */
  paused: { set(value: number): void }
}

export interface PipelineOptions {
  log?: Logger
  metrics?: PipelineMetrics
  /** backoff between attempts of a batch that failed on I/O: doubles from firstMs up to maxMs */
  retry?: { firstMs: number, maxMs: number }
}

const MAX_ATTEMPTS = 10
/** assets whose last written state this node keeps (about 1 KB each) */
const MAX_REMEMBERED = 50_000
/** a fault with the same message is logged at most once in this long (a buggy processor fails every batch) */
const FAULT_LOG_EVERY_MS = 60_000
const CLOSED = Symbol('closed')
const noop = () => undefined

export class AssetPipeline {
  private readonly written = new Map<string, AssetState>()
  private queued = 0
  /** resolvers of `below(limit)`, by limit: under backpressure thousands wait on one or two limits */
  private readonly waiters = new Map<number, Array<() => void>>()
  private readonly queue = new KeyedQueue<Fix>((_id, fixes) => {
    fixes.sort((a, b) => a.ts - b.ts)
    if (this.givingUp) return this.giveUp(fixes)
    return this.process({ tenantId: fixes[0]!.tenantId, deviceId: fixes[0]!.deviceId }, fixes)
  })
  private readonly log: Logger | undefined
  private readonly metrics: PipelineMetrics | undefined
  private readonly backoff: { firstMs: number, maxMs: number }
  /** batches waiting to be retried now, and since when (the outage as this node sees it) */
  private retrying = 0
  private outage: { since: number, batches: number, fixes: number } | null = null
  /** backoff timers of retried batches, cut short by close() */
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout, wake: () => void }>()
  /** close() was called: nothing is retried any more */
  private closing = false
  /** closed during an outage: what is still queued is given up without an attempt */
  private givingUp = false
  /** resolved by close(): an attempt in flight of a batch being retried is not waited for */
  private closed: Promise<typeof CLOSED> | null = null
  private signalClosed: (() => void) | null = null
  /** fixes given up at close (stored in the database, not applied to the state) */
  private readonly abandoned = { batches: 0, fixes: 0 }
  /** last log line of each fault message, so a buggy processor does not write one per batch */
  private readonly faultsLogged = new Map<string, { at: number, repeats: number }>()

  constructor(
    private readonly store: AssetStateStore,
    private readonly stages: readonly StatefulStage[],
    private readonly processors: readonly FixProcessor[],
    private readonly settings: FilterSettings,
    private readonly hooks: PipelineHooks,
    private readonly contexts: AssetContextLoader = { load: () => noContext },
    options: PipelineOptions = {},
  ) {
    this.log = options.log
    this.metrics = options.metrics
    this.backoff = options.retry ?? { firstMs: 100, maxMs: 5000 }
  }

  /**
   * Queues fixes (any mix of assets); resolves when all of them are processed. A batch that fails
   * on I/O is retried until it goes through; the promise rejects only for a batch given up (a
   * ProcessingFault, already logged and counted here, or PipelineClosed at shutdown).
   */
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

  /** A batch is waiting to be retried (the state store or the database is failing). */
  get paused(): boolean { return this.retrying > 0 }

  /**
   * Stops retrying, for shutdown: what is queued is still processed, but a batch that fails on I/O
   * is no longer retried, and once one has (or if the pipeline was already retrying) the rest of
   * the queue is given up without an attempt; batches waiting for their next attempt are given up
   * at once. What is given up is stored in the database, not applied to the state: it is logged.
   * Resolves when the queue is empty, with how many batches and fixes were given up.
   */
  async close(): Promise<{ batches: number, fixes: number }> {
    if (!this.closing) {
      this.closing = true
      // already retrying: an attempt per queued batch would only wait out the store's timeouts
      this.givingUp = this.retrying > 0
      this.signalClosed?.()
      for (const sleeper of this.sleeping) { clearTimeout(sleeper.timer); sleeper.wake() }
      this.sleeping.clear()
    }
    await this.queue.idle()
    this.metrics?.paused.set(0)
    const { batches, fixes } = this.abandoned
    if (fixes > 0) {
      this.log?.warn({ batches, fixes }, 'pipeline closed with fixes left unprocessed: those acknowledged are stored in the database, but not applied to the asset state (no geofence, milestone, ETA or event from them)')
    }
    return { batches, fixes }
  }

  /** Runs `update` on the asset's state under its queue, with the same compare-and-set as fixes. */
  update(key: AssetKey, update: StateUpdate): Promise<void> {
    const id = `${key.tenantId}:${key.deviceId}`
    return this.queue.run(id, async () => {
      const asset = await this.contexts.load(key)
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const next = await this.stateFor(key, id, attempt)
        const version = next.version
        const events: CoreEvent[] = []
        const effects: CoreEffect[] = []
        if (!update(next, (e) => events.push(e), asset, (e) => effects.push(e))) { this.remember(id, next, version); return }
        if (events.length > 0 || effects.length > 0) next.outbox = { events, effects }
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

  /**
   * One attempt at a batch: the asset's context and state, the stages and processors, the
   * compare-and-set, the outbox. The first attempt is called by the queue directly, so that the
   * path of nearly every batch costs no promise and no object beyond it; its failure hands over to
   * `retry`, whose attempts (`retry` given) rethrow instead.
   */
  private async process(key: AssetKey, fixes: Fix[], retry?: Retry): Promise<void> {
    const id = `${key.tenantId}:${key.deviceId}`
    /** the state this attempt (or an earlier one) wrote, its outbox not yet stored */
    let committed = retry?.committed
    try {
      if (committed) {
        // an earlier attempt wrote the state: only its outbox is left to store (running the fixes
        // again would find them all duplicates and report them so)
        await this.release(committed)
        return
      }
      // the context and the state are nearly always in memory: awaited only when they are not (an
      // await of a value at hand still costs a promise and a microtask, per batch)
      const loading = this.contexts.load(key)
      const asset = loading instanceof Promise ? await loading : loading
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const reading = this.stateFor(key, id, attempt)
        const state = reading instanceof Promise ? await reading : reading
        const version = state.version
        let outcome: ReturnType<AssetPipeline['apply']>
        // the pure part: what it throws is a bug, not an outage, and must not be retried (the
        // same fixes on the same state would throw again, holding the asset's queue for good)
        try { outcome = this.apply(state, fixes, asset) } catch (err) { throw new ProcessingFault(`a stage or processor threw: ${messageOf(err)}`, { cause: err }) }
        // an impossible jump is kept even when nothing else changed: a run of them is what lets the
        // asset's true position back in after a bad fix (stages/stateful.ts)
        const changed = outcome.accepted.length > 0 || outcome.events.length > 0 || outcome.jumped
        if (changed && (outcome.events.length > 0 || outcome.effects.length > 0)) outcome.state.outbox = { events: outcome.events, effects: outcome.effects }
        if (changed && await this.store.compareAndSet(outcome.state, version) !== 'ok') {
          continue // another writer got there first ('conflict' or 'stale'): recompute from what it wrote
        }
        // unchanged batches may still have noted a drop in the copy: only a written state is kept
        if (changed) this.remember(id, outcome.state, version + 1)
        if (outcome.state.outbox) committed = outcome.state
        // the synchronous hooks (metrics, live positions) are ours too: a throw is a bug, reported
        // after the outbox is stored (the state is written already)
        let hookFailed: { err: unknown } | undefined
        try {
          outcome.drops.forEach((d) => this.hooks.dropped(d.fix, d.reason, d.detail))
          if (outcome.accepted.length > 0) this.hooks.accepted(outcome.accepted, outcome.state)
        } catch (err) { hookFailed = { err } }
        if (committed) await this.release(committed)
        if (hookFailed) throw new ProcessingFault(`a pipeline hook threw: ${messageOf(hookFailed.err)}`, { cause: hookFailed.err })
        return
      }
      throw new ProcessingFault(`state kept changing under ${MAX_ATTEMPTS} attempts`)
    } catch (err) {
      // everything else came from an I/O port (state store, context loader, events and effects)
      if (incurable(err)) {
        this.fault(key, fixes.length, err)
        throw err
      }
      if (retry) { retry.committed = committed; throw err }
      return this.retry(key, fixes, err, committed)
    }
  }

  /**
   * Retries a batch that failed on I/O, after a backoff, until it goes through, fails for good or
   * the pipeline is closed; the asset's queue waits behind it (its order is kept), other assets go
   * on (or retry) on their own. The batch stays in the backlog meanwhile: under a long outage the
   * ingestor's backpressure holds acknowledgements, so publishers slow down instead of readings
   * being acknowledged and never processed.
   */
  private async retry(key: AssetKey, fixes: Fix[], first: unknown, committed: AssetState | undefined): Promise<void> {
    const retry: Retry = { committed }
    this.metrics?.retried.inc()
    if (this.retrying++ === 0 && !this.outage) {
      this.outage = { since: Date.now(), batches: 0, fixes: 0 }
      this.metrics?.paused.set(1)
      this.log?.warn({ err: messageOf(first) }, 'state store or database unavailable: processing paused, retrying')
    }
    const outage = this.outage!
    outage.batches++
    outage.fixes += fixes.length
    let outcome: 'done' | 'fault' | 'closed' = 'closed'
    try {
      for (let failures = 1; ; failures++) {
        if (this.closing) break
        await this.sleep(Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** (failures - 1)))
        if (this.closing) break
        try {
          const attempt = this.process(key, fixes, retry)
          attempt.catch(noop) // raced below: a close may leave it behind
          if (await Promise.race([attempt, this.closed ??= new Promise((resolve) => { this.signalClosed = () => resolve(CLOSED) })]) === CLOSED) break
          outcome = 'done'
          return
        } catch (err) {
          if (incurable(err)) { outcome = 'fault'; throw err }
        }
      }
      // closed: the fixes are stored in the database, not applied; the rest of the queue goes the same way
      this.givingUp = true
      return await this.giveUp(fixes)
    } finally {
      this.retrying--
      if (this.retrying === 0 && outcome !== 'closed') {
        this.outage = null
        this.metrics?.paused.set(0)
        this.log?.info({ batches: outage.batches, fixes: outage.fixes, ms: Date.now() - outage.since }, 'state store or database back: processing resumed')
      }
    }
  }

  /** Counts a batch left unprocessed at close; rejects its submit. */
  private giveUp(fixes: Fix[]): Promise<never> {
    this.abandoned.batches++
    this.abandoned.fixes += fixes.length
    return Promise.reject(new PipelineClosed())
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = { timer: setTimeout(() => { this.sleeping.delete(sleeper); resolve() }, ms), wake: resolve }
      this.sleeping.add(sleeper)
    })
  }

  /** A batch given up for good: logged (at most once a minute per message, with the asset) and counted. */
  private fault(key: AssetKey, fixes: number, err: unknown) {
    this.metrics?.failed.inc()
    const message = messageOf(err)
    const now = Date.now()
    const last = this.faultsLogged.get(message)
    if (last && now - last.at < FAULT_LOG_EVERY_MS) { last.repeats++; return }
    if (this.faultsLogged.size >= 1000) this.faultsLogged.clear()
    this.faultsLogged.set(message, { at: now, repeats: 0 })
    this.log?.error({ err, tenant: key.tenantId, device: key.deviceId, fixes, ...(last ? { repeatsSinceLastLine: last.repeats } : {}) },
      'processing a batch failed: a bug, not an outage; the batch is not retried (its fixes are stored, not applied to the state)')
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
