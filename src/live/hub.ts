// The live hub: stored events and accepted positions in, tenant-scoped frames out to subscribers
// (SSE streams) on every node. Everything goes through the Bus, in process by default and over
// Redis pub/sub in cluster mode, so a subscriber on node B sees what node A produced, and the
// local node hears its own frames the same way (one delivery path, no double sends).
// Relays (MQTT publication, later webhooks) run only on the producing node: they must happen once
// per event in the cluster, not once per node.
import type { Bus } from '../bus/bus.js'
import type { Fix, LivePosition } from '../contracts/payloads.js'
import type { StoredTrackingEvent } from '../db/tracking-events.js'
import type { Logger } from '../logger.js'
import { PositionCoalescer } from './coalescer.js'
import { eventMatches, positionMatches, type LiveFilter } from './filter.js'
import {
  EVENTS_CHANNEL, POSITIONS_CHANNEL, isEventsMessage, isPositionsMessage, toMessage, toPosition,
  type EventsMessage, type LiveFrame, type PositionsMessage,
} from './frames.js'

export type LiveSend = (frame: LiveFrame) => void

/** An output that must see each stored event once in the whole cluster. */
export interface EventRelay {
  relay(events: StoredTrackingEvent[]): void
}

/** What the API uses: publish events it stored itself, and subscribe a tenant's stream. */
export interface LivePort {
  publishEvents(events: StoredTrackingEvent[]): void
  subscribe(tenantId: string, filter: LiveFilter, send: LiveSend): () => void
}

export interface LiveHubOptions {
  bus: Bus
  log: Logger
  relays?: EventRelay[]
  /** the vehicle a device is attached to (cached lookup), so positions can be filtered by vehicle */
  vehicleOf?: (tenantId: string, deviceId: string) => Promise<string | null>
  /** positions are flushed to the bus at most this often (default 1000 ms) */
  positionsEveryMs?: number
}

/** Positions per bus message: keeps one Redis message well under a megabyte for a large fleet. */
const POSITIONS_PER_MESSAGE = 1000

interface Subscriber { filter: LiveFilter, send: LiveSend }

export class LiveHub implements LivePort {
  private readonly subscribers = new Map<string, Set<Subscriber>>()
  private readonly coalescer: PositionCoalescer
  private readonly relays: EventRelay[]
  /** flushes still resolving vehicles; stop() waits for them so the last positions go out */
  private readonly flushing = new Set<Promise<void>>()
  private unsubscribeBus: Array<() => void> = []
  private running = false

  constructor(private readonly options: LiveHubOptions) {
    this.relays = [...options.relays ?? []]
    this.coalescer = new PositionCoalescer(options.positionsEveryMs ?? 1000, (tenantId, fixes) => {
      const done = this.flushPositions(tenantId, fixes).finally(() => this.flushing.delete(done))
      this.flushing.add(done)
    })
  }

  /** Outputs known only later in start-up (the broker starts after ingestion). */
  addRelay(relay: EventRelay): void { this.relays.push(relay) }

  start(): void {
    if (this.running) return
    this.running = true
    const { bus } = this.options
    this.unsubscribeBus = [
      bus.subscribe<EventsMessage>(EVENTS_CHANNEL, (m) => this.deliverEvents(m)),
      bus.subscribe<PositionsMessage>(POSITIONS_CHANNEL, (m) => this.deliverPositions(m)),
    ]
  }

  /** Flushes pending positions, then stops hearing the bus; subscribers simply receive nothing more. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.coalescer.stop()
    await Promise.all(this.flushing)
    this.running = false
    for (const off of this.unsubscribeBus) off()
    this.unsubscribeBus = []
    this.subscribers.clear()
  }

  get subscriberCount(): number {
    let n = 0
    for (const set of this.subscribers.values()) n += set.size
    return n
  }

  publishEvents(events: StoredTrackingEvent[]): void {
    if (!this.running || events.length === 0) return
    const byTenant = new Map<string, StoredTrackingEvent[]>()
    for (const e of events) {
      const list = byTenant.get(e.tenantId)
      if (list) list.push(e)
      else byTenant.set(e.tenantId, [e])
    }
    for (const [tenantId, list] of byTenant) {
      this.options.bus.publish<EventsMessage>(EVENTS_CHANNEL, { tenantId, events: list.map(toMessage) })
    }
    for (const relay of this.relays) {
      try { relay.relay(events) } catch (err) { this.options.log.error({ err }, 'event relay failed') }
    }
  }

  publishPositions(fixes: Fix[]): void {
    if (this.running && fixes.length > 0) this.coalescer.add(fixes)
  }

  subscribe(tenantId: string, filter: LiveFilter, send: LiveSend): () => void {
    const subscriber: Subscriber = { filter, send }
    let set = this.subscribers.get(tenantId)
    if (!set) this.subscribers.set(tenantId, set = new Set())
    set.add(subscriber)
    return () => {
      const current = this.subscribers.get(tenantId)
      current?.delete(subscriber)
      if (current?.size === 0) this.subscribers.delete(tenantId)
    }
  }

  private async flushPositions(tenantId: string, fixes: Fix[]): Promise<void> {
    const vehicles = await Promise.all(fixes.map((f) => this.vehicleOf(tenantId, f.deviceId)))
    const positions = fixes.map((f, i) => toPosition(f, vehicles[i] ?? null))
    for (let i = 0; i < positions.length; i += POSITIONS_PER_MESSAGE) {
      this.options.bus.publish<PositionsMessage>(POSITIONS_CHANNEL, { tenantId, positions: positions.slice(i, i + POSITIONS_PER_MESSAGE) })
    }
  }

  private async vehicleOf(tenantId: string, deviceId: string): Promise<string | null> {
    if (!this.options.vehicleOf) return null
    try { return await this.options.vehicleOf(tenantId, deviceId) } catch (err) {
      this.options.log.warn({ err, device: deviceId }, 'vehicle lookup for a live position failed')
      return null
    }
  }

  // Delivery looks only at the subscribers of the message's tenant: that map lookup is the
  // isolation boundary, so no filter mistake can send tenant A's frames to tenant B.
  private deliverEvents(m: unknown): void {
    if (!isEventsMessage(m)) return this.options.log.warn('malformed live events message ignored')
    const set = this.subscribers.get(m.tenantId)
    if (!set) return
    for (const event of m.events) {
      for (const s of set) if (eventMatches(s.filter, event)) this.send(s, { kind: 'event', event })
    }
  }

  private deliverPositions(m: unknown): void {
    if (!isPositionsMessage(m)) return this.options.log.warn('malformed live positions message ignored')
    const set = this.subscribers.get(m.tenantId)
    if (!set) return
    for (const s of set) {
      if (!s.filter.positions) continue
      const positions = m.positions.filter((p: LivePosition) => positionMatches(s.filter, p))
      if (positions.length > 0) this.send(s, { kind: 'positions', positions })
    }
  }

  /** One failing subscriber (a broken socket) must not starve the others. */
  private send(s: Subscriber, frame: LiveFrame): void {
    try { s.send(frame) } catch (err) { this.options.log.warn({ err }, 'live subscriber failed') }
  }
}
