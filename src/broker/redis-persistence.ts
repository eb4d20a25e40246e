// The clustered broker's persistence (cluster.ts): subscriptions, sessions and their queues in
// Redis. Aedes 1.x awaits its persistence, so the package's async implementation is used directly
// rather than its callback wrapper; its retained-message query returns an async generator where
// aedes 1.2 pipes a stream, hence the Readable.from below (found by
// tests/integration/broker/cluster.test.ts).
import { Readable } from 'node:stream'
import type { Redis } from 'ioredis'
import AsyncPersistence from 'aedes-persistence-redis/asyncPersistence.js'
import type { Logger } from '../logger.js'
import type { SessionLimits, SessionStore } from './sessions.js'
import { INTEGRATION_SESSIONS, SEEN, outgoingKey, packetKey, scripts, tenantRange, type ScriptedRedis } from './redis-persistence-scripts.js'

/** `*`, `?`, `[`, `]` and `\` escaped for a SCAN pattern */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/gu, (c) => `\\${c}`)

/**
 * aedes-persistence-redis with the session bounds of sessions.ts. The cap: an enqueue reads the
 * registry and the queue lengths of the sessions it is for in one round trip, leaves out the full
 * and the unregistered, and, after the package wrote the message, trims any queue that concurrent
 * enqueues (other nodes, a read chunk of publishes) pushed over the cap back to it from the newest
 * end, so a queue never stays above it and never has a hole. The enqueues of one node answer in
 * the order they began (Aedes hands a message on when its enqueue answers: see below). A message
 * left out of a connected client's queue still reaches it live: its delivery must then neither
 * write the message's body again nor count it off (the package would recreate the key, or take
 * the count of the sessions that do hold it), so a delivery first looks for the message in the queue (LPOS from the newest
 * end, where a live message is); one not there goes out without touching Redis (once the client's
 * earlier deliveries are written: order), its PUBACK / PUBREC / PUBCOMP likewise. A clean=true
 * connection discards the previous session's queue releasing each message (the package deletes the
 * list and leaves the bodies behind), and so does an expiry. As a last resort against a body left
 * behind all the same, the package's packetTTL gives every body twice the session expiry (at least
 * a day): no live session can still need it.
 */
export class RedisPersistence extends AsyncPersistence implements SessionStore {
  readonly settleMs = 1000
  /** packet ids of messages delivered to a connected client without being in its queue, by client */
  private readonly unqueued = new WeakMap<object, Set<number | undefined>>()
  /** the latest enqueue begun on this node (never rejects) */
  private enqueuing: Promise<void> = Promise.resolve()
  /** the latest delivery update begun, by client */
  private readonly updating = new WeakMap<object, Promise<void>>()
  private readonly conn: ScriptedRedis
  private readonly prefix: string

  constructor(conn: Redis, private readonly limits: SessionLimits, expiryS: number, private readonly log: Logger) {
    const ttl = expiryS > 0 ? Math.max(2 * expiryS, 86_400) : 0
    super({ conn, maxSessionDelivery: Math.max(1000, limits.maxQueued), packetTTL: () => ttl })
    for (const [name, script] of Object.entries(scripts)) conn.defineCommand(name, script)
    this.conn = conn as ScriptedRedis
    this.prefix = conn.options.keyPrefix ?? ''
  }

  /**
   * Aedes pipes this to the subscriber without listening for its errors: one (Redis going away
   * while a SUBSCRIBE's retained messages are read) would be thrown and kill the node. The retained
   * messages are then not sent, as for any SUBSCRIBE during an outage.
   */
  override createRetainedStreamCombi(patterns: string[]): Readable {
    const stream = Readable.from(super.createRetainedStreamCombi(patterns))
    stream.on('error', (err: Error) => this.log.warn({ err: err.message, topics: patterns.slice(0, 10) }, 'retained messages not sent: reading them failed'))
    return stream
  }

  override createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /**
   * Sessions from before the registry (or an upgrade) start their clock now; the integration
   * sessions among them (`<tenant>:<name>`: ids the API issues to devices have no ':') are indexed
   * for the per-tenant cap.
   */
  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker)
    const ids = await this.conn.smembers('clients')
    const now = Date.now()
    for (let i = 0; i < ids.length; i += 1000) {
      await this.conn.zadd(SEEN, 'NX', ...ids.slice(i, i + 1000).flatMap((id) => [now, id]))
    }
    const integrations = (await this.conn.zrange(SEEN, 0, -1)).filter((id) => id.includes(':'))
    for (let i = 0; i < integrations.length; i += 1000) {
      await this.conn.zadd(INTEGRATION_SESSIONS, ...integrations.slice(i, i + 1000).flatMap((id) => [0, id]))
    }
  }

  /**
   * Answers once this enqueue and every one begun before it on this node have. Aedes hands a
   * message on (emits it to every node's clients) when its enqueue answers, and a client drops as a
   * duplicate any message numbered lower than one it already got from the same node (Aedes' dedupe
   * on brokerId/brokerCounter, lib/client.js), so enqueues must answer in the order they began,
   * which is the order of those numbers. They do overlap (Aedes acknowledges a QoS 1 message
   * before handing it on, so a connection's next publish is read meanwhile) and, with the cap, one
   * that keeps a message takes several round trips where one that leaves it out takes one:
   * unordered, the later message went out first and the earlier one was lost to every client
   * connected (a client far behind on its acknowledgements, say). The writes still start at once;
   * only the answers wait.
   */
  override outgoingEnqueueCombi(subs: AedesStoredSubscription[], packet: AedesStoredPacket): Promise<void> {
    const earlier = this.enqueuing
    const enqueue = this.enqueue(subs, packet)
    const inOrder = enqueue.then(() => earlier, async (err: unknown) => { await earlier; throw err })
    this.enqueuing = inOrder.catch(() => {})
    return inOrder
  }

  private async enqueue(subs: AedesStoredSubscription[], packet: AedesStoredPacket): Promise<void> {
    if (!subs || subs.length === 0) return
    const cap = this.limits.maxQueued
    const checks = this.conn.pipeline()
    for (const sub of subs) checks.zscore(SEEN, sub.clientId).llen(outgoingKey(sub.clientId))
    const answers = (await checks.exec()) ?? []
    const kept: AedesStoredSubscription[] = []
    subs.forEach((sub, i) => {
      const [registryError, at] = answers[2 * i] ?? [new Error('no answer')]
      const [lengthError, length] = answers[2 * i + 1] ?? [new Error('no answer')]
      const failed = registryError ?? lengthError
      if (failed) throw failed
      if (at === null) this.limits.dropped(sub.clientId, 'expired', 1)
      else if (cap > 0 && (length as number) >= cap) this.limits.dropped(sub.clientId, 'queue_full', 1)
      else kept.push(sub)
    })
    if (kept.length === 0) return
    await super.outgoingEnqueueCombi(kept, packet)
    if (cap === 0) return
    const trims = this.conn.pipeline() as unknown as ScriptedRedis
    for (const sub of kept) void trims.retrackTrimQueue(outgoingKey(sub.clientId), cap, this.prefix)
    const trimmed = (await (trims as unknown as ReturnType<Redis['pipeline']>).exec()) ?? []
    trimmed.forEach(([err, removed], i) => {
      if (err) throw err
      if ((removed as number) > 0) this.limits.dropped(kept[i]!.clientId, 'queue_full', removed as number)
    })
  }

  override outgoingUpdate(client: { id: string }, packet: AedesStoredPacket): Promise<void> {
    const earlier = this.updating.get(client)
    const update = this.update(client, packet, earlier)
    this.updating.set(client, update.catch(() => {}))
    return update
  }

  private async update(client: { id: string }, packet: AedesStoredPacket, earlier: Promise<void> | undefined): Promise<void> {
    if (packet.cmd !== 'pubrel') {
      if (await this.conn.lpos(outgoingKey(client.id), packetKey(packet), 'RANK', -1) === null) {
        let ids = this.unqueued.get(client)
        if (!ids) this.unqueued.set(client, ids = new Set())
        ids.add(packet.messageId)
        // the package's update of an earlier message (one more round trip) must not be overtaken:
        // Aedes writes each message when its update is done, and a topic's messages go in order
        await earlier
        return
      }
    } else if (this.unqueued.get(client)?.has(packet.messageId)) {
      await earlier
      return
    }
    await super.outgoingUpdate(client, packet)
  }

  override async outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<AedesStoredPacket | undefined> {
    if (this.unqueued.get(client)?.delete(packet.messageId)) return undefined
    return super.outgoingClearMessageId(client, packet)
  }

  /** a clean=true connection discards the previous session: its queue (releasing each message), then its subscriptions */
  override async cleanSubscriptions(client: { id: string }): Promise<void> {
    await this.conn.retrackDrainQueue(outgoingKey(client.id), this.prefix)
    await super.cleanSubscriptions(client)
  }

  async touchSessions(ids: string[], at: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.conn.zadd(SEEN, ...ids.slice(i, i + 1000).flatMap((id) => [at, id]))
    }
  }

  async admitSession(id: string, tenantSlug: string, cap: number, at: number): Promise<boolean> {
    return await this.conn.retrackAdmitSession(SEEN, INTEGRATION_SESSIONS, id, at, cap, ...tenantRange(tenantSlug)) === 1
  }

  async forgetSession(id: string): Promise<void> {
    for (const [err] of await this.conn.multi().zrem(SEEN, id).zrem(INTEGRATION_SESSIONS, id).exec() ?? []) if (err) throw err
  }

  async staleSessions(cutoff: number, limit: number): Promise<string[]> {
    return this.conn.zrangebyscore(SEEN, '-inf', cutoff, 'LIMIT', 0, limit)
  }

  async claimSession(id: string, cutoff: number): Promise<boolean> {
    return await this.conn.retrackClaimSession(SEEN, INTEGRATION_SESSIONS, id, cutoff) === 1
  }

  async sessionRegistered(id: string): Promise<boolean> {
    return await this.conn.zscore(SEEN, id) !== null
  }

  async removeSessions(ids: string[]): Promise<number[]> {
    const discarded: number[] = []
    for (const id of ids) {
      const subs = await this.subscriptionsByClient({ id })
      // the queue first: removeSubscriptions deletes the list and would leave the bodies behind
      discarded.push(await this.conn.retrackDrainQueue(outgoingKey(id), this.prefix))
      if (subs.length > 0) await this.removeSubscriptions({ id }, subs.map((s) => s.topic))
    }
    // half-received QoS 2 messages have no index: one pass over the broker's keys for the batch
    const gone = new Set(ids.map((id) => encodeURIComponent(id)))
    const incoming = `${this.prefix}incoming:`
    for await (const keys of this.conn.scanStream({ match: `${globEscape(incoming)}*`, count: 1000 }) as AsyncIterable<string[]>) {
      const ours = keys.filter((k) => gone.has(k.slice(incoming.length, k.lastIndexOf(':')))).map((k) => k.slice(this.prefix.length))
      if (ours.length > 0) await this.conn.del(...ours)
    }
    return discarded
  }
}
