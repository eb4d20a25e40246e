// Bounds on persistent MQTT sessions (clean=false): what the broker keeps for a client between its
// connections. Neither Aedes 1.2 nor its persistences bound it (Aedes' `queueLimit` is the packets a
// socket sends before its CONNACK; aedes-persistence-redis' `maxSessionDelivery` is how many queued
// messages one reconnect reads, the rest staying queued; its `packetTTL` expires a message's body
// but not its place in the queue; MQTT 3.1.1 has no session expiry and Aedes implements none), so a
// client that subscribed with clean=false and went away had every later message kept for it
// forever. Two bounds, as Mosquitto (`max_queued_messages`, `persistent_client_expiration`) and EMQX
// (`max_mqueue_len`, session expiry) have them:
//
// - MQTT_SESSION_MAX_QUEUED: a message for a session already holding that many is not kept for it
//   (the newest is dropped, as Mosquitto does: what is queued stays a gapless run from when the
//   client left, nothing in flight is pulled from under a delivery, and a dropped message costs no
//   write). A client still connected gets such a message live all the same; it is only not kept
//   for redelivery. Counted in retrack_mqtt_queued_dropped_total{reason="queue_full"}.
// - MQTT_SESSION_EXPIRY_S: a session whose client has not been connected for that long is removed
//   with its queue, subscriptions and half-received QoS 2 messages (the client then connects with
//   sessionPresent false). Counted in retrack_mqtt_sessions_expired_total and, for the messages
//   discarded, retrack_mqtt_queued_dropped_total{reason="expired"}.
// - MQTT_SESSIONS_PER_TENANT_MAX: the persistent sessions of one tenant's integrations (client ids
//   `<tenant>:<name>`, any of which a tenant's operator may pick, where a device has one id). A
//   clean=false CONNECT that would create one more is refused (authenticate.ts); reconnecting to a
//   session that exists is not, whatever the count. Sessions that expire or are ended by a
//   clean=true connection free their place. The place is taken when the CONNECT is accepted, so a
//   client that connects with clean=false once and goes away holds it until its session expires.
//   Across nodes the count is one (a Redis script decides), so it is exact.
//
// All three rest on a registry of persistent sessions with the time each client was last connected:
// set when a clean=false client connects and disconnects and, for the clients still connected, at
// every sweep (so a node that dies stops vouching for its clients); removed when a clean=true
// client takes the id over. Integration sessions are also indexed by tenant, for their cap. A
// message is queued only for a registered session, which is what lets the sweep remove a session
// without a message for it slipping in behind. The registry lives with
// the persistence: in process (MemorySessionPersistence below) or in Redis, shared by the nodes
// (RedisPersistence in redis-persistence.ts), where each node sweeps and a Redis script hands each expired
// session to exactly one of them.
import { Readable } from 'node:stream'
import type { Aedes, Client } from 'aedes'
import MemoryPersistence from 'aedes-persistence/asyncPersistence.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { principalOf } from './principal.js'

export type DropReason = 'queue_full' | 'expired'

export interface SessionLimits {
  /** most messages kept for one session; 0: no limit */
  maxQueued: number
  /** `count` messages were not kept for (or were discarded with) the session of `clientId` */
  dropped: (clientId: string, reason: DropReason, count: number) => void
}

/** What the expiry sweep needs of a persistence; both of ours provide it. */
export interface SessionStore {
  /** the clients were connected at `at` (epoch ms): they have a persistent session */
  touchSessions(ids: string[], at: number): Promise<void>
  /**
   * An integration of `tenantSlug` (its id is `<tenantSlug>:<name>`) was connected at `at` with
   * clean=false: registered as with touchSessions and counted as one of the tenant's sessions, if
   * it already was a session or the tenant has fewer than `cap` (0: no limit). False: refused,
   * nothing registered.
   */
  admitSession(id: string, tenantSlug: string, cap: number, at: number): Promise<boolean>
  /** a clean=true client took the id: no persistent session any more */
  forgetSession(id: string): Promise<void>
  /** up to `limit` sessions whose client was last connected at or before `cutoff` */
  staleSessions(cutoff: number, limit: number): Promise<string[]>
  /** takes a stale session off the registry: true for one caller only, the one that then removes it */
  claimSession(id: string, cutoff: number): Promise<boolean>
  sessionRegistered(id: string): Promise<boolean>
  /** removes claimed sessions' queues, subscriptions and half-received messages: the messages discarded, per session */
  removeSessions(ids: string[]): Promise<number[]>
  /** longest an enqueue that found a session registered may take to write it (before the sweep removes a claimed one) */
  readonly settleMs: number
}

const Packet = MemoryPersistence.Packet

/**
 * Aedes' in-process persistence (aedes-persistence) with the bounds above. Its outgoing queues are
 * kept here rather than in the package, whose queue map is private: a queue's length is then known
 * at once and an expired client's queue is removed with its entry. The queue operations are the
 * package's, but for a message that is not in the queue (not kept: the queue was full), which is no
 * error: the connected client got it live and there is nothing to update or clear.
 */
export class MemorySessionPersistence extends MemoryPersistence implements SessionStore {
  readonly settleMs = 0
  private readonly queues = new Map<string, AedesStoredPacket[]>()
  /** registry: client id → last connected (epoch ms) */
  private readonly seen = new Map<string, number>()
  /** the registered integration sessions, by tenant slug */
  private readonly integrations = new Map<string, Set<string>>()

  constructor(private readonly limits: SessionLimits) {
    super()
  }

  private enqueue(clientId: string, packet: AedesStoredPacket): void {
    if (!this.seen.has(clientId)) {
      this.limits.dropped(clientId, 'expired', 1)
      return
    }
    let queue = this.queues.get(clientId)
    if (!queue) this.queues.set(clientId, queue = [])
    if (this.limits.maxQueued > 0 && queue.length >= this.limits.maxQueued) {
      this.limits.dropped(clientId, 'queue_full', 1)
      return
    }
    queue.push(new Packet(packet))
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesStoredPacket): Promise<void> {
    this.enqueue(sub.clientId, packet)
  }

  override async outgoingEnqueueCombi(subs: AedesStoredSubscription[], packet: AedesStoredPacket): Promise<void> {
    for (const sub of subs) this.enqueue(sub.clientId, packet)
  }

  override async outgoingUpdate(client: { id: string }, packet: AedesStoredPacket): Promise<void> {
    const queue = this.queues.get(client.id) ?? []
    for (let i = 0; i < queue.length; i++) {
      const queued = queue[i]!
      if (queued.brokerId === packet.brokerId) {
        if (queued.brokerCounter === packet.brokerCounter) {
          queued.messageId = packet.messageId
          return
        }
        // packet ids wrap at 65535: the same id with another counter is another message
      } else if (queued.messageId === packet.messageId) {
        queue[i] = packet // a PUBREL replacing its PUBLISH
        return
      }
    }
  }

  override async outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<AedesStoredPacket | undefined> {
    const queue = this.queues.get(client.id)
    const i = queue?.findIndex((queued) => queued.messageId === packet.messageId) ?? -1
    if (!queue || i < 0) return undefined
    const [cleared] = queue.splice(i, 1)
    if (queue.length === 0) this.queues.delete(client.id)
    return cleared
  }

  override outgoingStream(client: { id: string }): Readable {
    return Readable.from([...this.queues.get(client.id) ?? []])
  }

  /** a clean=true connection discards the previous session: its subscriptions and its queue */
  override async cleanSubscriptions(client: { id: string }): Promise<void> {
    this.queues.delete(client.id)
    await super.cleanSubscriptions(client)
  }

  async touchSessions(ids: string[], at: number): Promise<void> {
    for (const id of ids) this.seen.set(id, at)
  }

  async admitSession(id: string, tenantSlug: string, cap: number, at: number): Promise<boolean> {
    let mine = this.integrations.get(tenantSlug)
    if (!this.seen.has(id) && cap > 0 && (mine?.size ?? 0) >= cap) return false
    if (!mine) this.integrations.set(tenantSlug, mine = new Set())
    mine.add(id)
    this.seen.set(id, at)
    return true
  }

  private unregister(id: string): void {
    this.seen.delete(id)
    const tenantSlug = id.slice(0, Math.max(0, id.indexOf(':')))
    const mine = this.integrations.get(tenantSlug)
    if (mine?.delete(id) && mine.size === 0) this.integrations.delete(tenantSlug)
  }

  async forgetSession(id: string): Promise<void> {
    this.unregister(id)
  }

  async staleSessions(cutoff: number, limit: number): Promise<string[]> {
    const stale: string[] = []
    for (const [id, at] of this.seen) {
      if (stale.length >= limit) break
      if (at <= cutoff) stale.push(id)
    }
    return stale
  }

  async claimSession(id: string, cutoff: number): Promise<boolean> {
    const at = this.seen.get(id)
    if (at === undefined || at > cutoff) return false
    this.unregister(id)
    return true
  }

  async sessionRegistered(id: string): Promise<boolean> {
    return this.seen.has(id)
  }

  async removeSessions(ids: string[]): Promise<number[]> {
    const discarded: number[] = []
    for (const id of ids) {
      discarded.push(this.queues.get(id)?.length ?? 0)
      await this.cleanSubscriptions({ id })
      await this.cleanIncoming({ id })
    }
    return discarded
  }
}

/** The drop callback: counted, and logged once in a while per session (a full queue drops every message). */
export function reportDrops(metrics: Metrics, log: Logger): SessionLimits['dropped'] {
  const warned = new Map<string, number>()
  return (clientId, reason, count) => {
    metrics.mqttQueuedDropped.inc({ reason }, count)
    if (reason !== 'queue_full') return
    const now = Date.now()
    if ((warned.get(clientId) ?? 0) > now - 300_000) return
    if (warned.size >= 10_000) warned.clear()
    warned.set(clientId, now)
    log.warn({ clientId }, 'persistent mqtt session queue full: newer messages for it are dropped until it reconnects')
  }
}

/**
 * Keeps the registry up to date from this node's connections and, with an expiry, sweeps: every
 * quarter of the expiry (at least every 250 ms, at most every minute) it renews the time of this
 * node's connected persistent clients, claims the sessions last connected longer ago than the
 * expiry, waits for enqueues already past the registry check, and removes the claimed sessions
 * whose client has not come back meanwhile.
 */
export class SessionKeeper {
  private timer: NodeJS.Timeout | null = null
  private sweeping: Promise<void> | null = null
  private stopped = false
  readonly intervalMs: number

  constructor(
    private readonly aedes: Aedes,
    private readonly store: SessionStore,
    private readonly expiryMs: number,
    private readonly deps: { metrics: Metrics, log: Logger, connected: () => Client[] },
  ) {
    this.intervalMs = Math.min(60_000, Math.max(250, Math.floor(expiryMs / 4)))
  }

  start(): void {
    const failed = (err: unknown) => this.deps.log.warn({ err }, 'mqtt session registry not updated')
    this.aedes.on('client', (client: Client) => {
      const principal = principalOf(client)
      if (client.clean) this.store.forgetSession(client.id).catch(failed)
      // admitted by the authenticate hook already: indexed again should a sweep have claimed it meanwhile
      else if (principal?.kind === 'integration') this.store.admitSession(client.id, principal.tenantSlug, 0, Date.now()).catch(failed)
      else this.store.touchSessions([client.id], Date.now()).catch(failed)
    })
    this.aedes.on('clientDisconnect', (client: Client) => {
      if (!client.clean) this.store.touchSessions([client.id], Date.now()).catch(failed)
    })
    if (this.expiryMs > 0) this.schedule()
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.deps.log.warn({ err }, 'mqtt session expiry sweep failed'))
        .finally(() => { this.sweeping = null; this.schedule() })
    }, this.intervalMs)
    this.timer.unref()
  }

  async sweep(): Promise<void> {
    const now = Date.now()
    const persistent = () => new Set(this.deps.connected().filter((c) => !c.clean && c.id).map((c) => c.id))
    await this.store.touchSessions([...persistent()], now)
    const cutoff = now - this.expiryMs
    const claimed: string[] = []
    for (const id of await this.store.staleSessions(cutoff, 1000)) {
      if (persistent().has(id)) continue
      if (await this.store.claimSession(id, cutoff)) claimed.push(id)
    }
    if (claimed.length === 0) return
    if (this.store.settleMs > 0) await new Promise((resolve) => setTimeout(resolve, this.store.settleMs))
    const here = persistent()
    const gone: string[] = []
    // a client that connected again meanwhile registered again: its session stays
    for (const id of claimed) if (!here.has(id) && !await this.store.sessionRegistered(id)) gone.push(id)
    if (gone.length === 0) return
    const discarded = await this.store.removeSessions(gone)
    gone.forEach((clientId, i) => {
      const count = discarded[i] ?? 0
      this.deps.metrics.mqttSessionsExpired.inc()
      if (count > 0) this.deps.metrics.mqttQueuedDropped.inc({ reason: 'expired' }, count)
      this.deps.log.info({ clientId, discarded: count }, 'persistent mqtt session expired')
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.sweeping
  }
}
