// Where the broker keeps subscriptions, sessions and message fan-out: in process by default, in
// Redis when REDIS_URL is set, so every node sees every subscription and session (DESIGN.md: aedes
// 1.2 fits aedes-persistence-redis 11 and mqemitter-redis 7). Aedes 1.x awaits its persistence,
// so the package's async implementation is used directly rather than its callback wrapper; its
// retained-message query returns an async generator where aedes 1.2 pipes a stream, hence the
// Readable.from below (found by tests/integration/broker/cluster.test.ts).
//
// Everything the broker puts in Redis is under REDIS_KEY_PREFIX, so deployments sharing one Redis
// with different prefixes are fully apart (no message, session or client-id takeover crosses) while
// the nodes of one deployment (same prefix) share everything (tests/integration/broker/cluster-namespace.test.ts):
// - the persistence's keys (`clients`, `client:…`, `outgoing:…`, `packet:…`, `will…`) through the
//   ioredis `keyPrefix` of its connection: `<prefix>mqtt:clients` …;
// - the message fan-out's pub/sub channels, which `keyPrefix` does not touch (a channel is no key),
//   through NamespacedEmitter: `<prefix>mqtt:tenants/acme/…`, `<prefix>mqtt:$SYS/…`. Aedes' own
//   traffic goes there too: the `$SYS/<broker>/new/clients` message that makes a node close its
//   holder of a client id that connected elsewhere, and the subscription broadcasts.
// Both are new names: a node upgraded from a version without them starts with an empty broker
// namespace (docs/mqtt.md#several-nodes).
import type { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import type { AedesOptions } from 'aedes'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'
import AsyncPersistence from 'aedes-persistence-redis/asyncPersistence.js'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { endConnection } from '../redis/end-connection.js'
import { reportOutages, swallowRelayedErrors } from '../redis/outages.js'
import type { SessionLimits, SessionStore } from './sessions.js'

export interface ClusterBackends {
  options: Pick<AedesOptions, 'mq' | 'persistence'>
  /** subscriptions and sessions are shared through Redis (false: this node's memory only) */
  clustered: boolean
  /** the Redis persistence's session registry (clustered only) */
  sessions?: SessionStore
  /**
   * Whether the broker's Redis sessions connection is ready (always true when not clustered). Aedes
   * reads and writes a client's session there before its CONNACK: while it is not, the authenticate
   * hook refuses a CONNECT at once with return code 3 instead of leaving it unanswered.
   */
  available: () => boolean
  /**
   * Before Aedes closes: during a Redis outage, ends the connections that are not ready at once, so
   * that what waits on them (a closing client's unsubscriptions, queued publishes and session
   * writes) fails now rather than after ioredis' ~10 s of retries (the shutdown would wait for it).
   */
  abandonUnavailable: () => void
  /** after Aedes closed (it closes the emitter itself) */
  close: () => Promise<void>
}

// aedes-persistence-redis' key scheme (under the connection's keyPrefix): a session's queue is the
// list `outgoing:<id>` of message keys `packet:<broker>:<counter>`, each message's body shared by the
// sessions it is queued for and counted in `packet:<broker>:<counter>:offlineCount`; a QoS 2 message
// acknowledged with PUBREC is replaced in the list by its PUBREL, `outgoing:<id>:<broker>:<counter>`;
// an inbound QoS 2 message awaiting PUBREL is `incoming:<id>:<packet id>`. Client ids are
// URI-encoded in keys. The registry of persistent sessions (sessions.ts) is ours: `sessions:seen`,
// a sorted set of client ids by the time (epoch ms) they were last connected.
const SEEN = 'sessions:seen'
const outgoingKey = (clientId: string) => `outgoing:${encodeURIComponent(clientId)}`
const packetKey = (packet: { brokerId: string, brokerCounter: number }) => `packet:${packet.brokerId}:${packet.brokerCounter}`

const scripts = {
  /**
   * Brings a queue that concurrent enqueues (other nodes, a read chunk of publishes) pushed over the
   * cap back to it, dropping the newest messages (a PUBREL awaiting its PUBCOMP stays), so what is
   * queued stays a gapless run. KEYS: queue; ARGV: cap, key prefix. Returns the messages dropped.
   */
  retrackTrimQueue: {
    numberOfKeys: 1,
    lua: `local cap = tonumber(ARGV[1])
local length = redis.call('LLEN', KEYS[1])
if length <= cap then return 0 end
local excess = redis.call('LRANGE', KEYS[1], cap - length, -1)
local n = 0
for i = #excess, 1, -1 do
  local entry = excess[i]
  if string.sub(entry, 1, 7) == 'packet:' then
    redis.call('LREM', KEYS[1], -1, entry)
    local count = ARGV[2] .. entry .. ':offlineCount'
    local left = redis.call('DECR', count)
    if left == 0 then redis.call('DEL', ARGV[2] .. entry, count) elseif left < 0 then redis.call('DEL', count) end
    n = n + 1
  end
end
return n`,
  },
  /** Empties a queue, releasing each message (its body goes with its last session). KEYS: queue; ARGV: key prefix. Returns the messages discarded. */
  retrackDrainQueue: {
    numberOfKeys: 1,
    lua: `local n = 0
for _, entry in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local broker, counter = string.match(entry, ':([^:]+):([^:]+)$')
  if broker then
    if string.sub(entry, 1, 9) == 'outgoing:' then redis.call('DEL', ARGV[1] .. entry) end
    local packet = ARGV[1] .. 'packet:' .. broker .. ':' .. counter
    local left = redis.call('DECR', packet .. ':offlineCount')
    if left == 0 then redis.call('DEL', packet, packet .. ':offlineCount') elseif left < 0 then redis.call('DEL', packet .. ':offlineCount') end
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n`,
  },
  /** Removes a session from the registry if it is still stale: 1 for the one node that did. KEYS: registry; ARGV: client id, cutoff */
  retrackClaimSession: {
    numberOfKeys: 1,
    lua: `local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) return 1 end
return 0`,
  },
} as const

type ScriptedRedis = Redis & {
  retrackTrimQueue(queue: string, cap: number, prefix: string): Promise<number>
  retrackDrainQueue(queue: string, prefix: string): Promise<number>
  retrackClaimSession(registry: string, clientId: string, cutoff: number): Promise<number>
}

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
class RedisPersistence extends AsyncPersistence implements SessionStore {
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

  /** sessions from before the registry (or an upgrade) start their clock now */
  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker)
    const ids = await this.conn.smembers('clients')
    const now = Date.now()
    for (let i = 0; i < ids.length; i += 1000) {
      await this.conn.zadd(SEEN, 'NX', ...ids.slice(i, i + 1000).flatMap((id) => [now, id]))
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

  async forgetSession(id: string): Promise<void> {
    await this.conn.zrem(SEEN, id)
  }

  async staleSessions(cutoff: number, limit: number): Promise<string[]> {
    return this.conn.zrangebyscore(SEEN, '-inf', cutoff, 'LIMIT', 0, limit)
  }

  async claimSession(id: string, cutoff: number): Promise<boolean> {
    return await this.conn.retrackClaimSession(SEEN, id, cutoff) === 1
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

type Emitter = ReturnType<typeof mqemitterRedis>
type Message = Parameters<Emitter['emit']>[0]
type Listener = (message: Message, done: () => void) => void

/** The broker's Redis key prefix: `<REDIS_KEY_PREFIX>mqtt:`. */
export const brokerKeyPrefix = (redisKeyPrefix: string) => `${redisKeyPrefix}mqtt:`

/**
 * The broker's pub/sub channel prefix: brokerKeyPrefix with every character but letters, digits and
 * `:._-` percent-encoded (UTF-8), among them what means something to MQTT (`/`, `+`, `#`) or to a
 * Redis channel pattern (`*`, `?`, `[`, `]`, `\`), and `%` itself, so two prefixes never encode
 * alike; `retrack:` stays `retrack:mqtt:`. It is glued to the topic's first level rather than made
 * a level of its own: a topic Aedes accepted (MQTT_MAX_TOPIC_LEVELS, at most 100) must still fit
 * the emitter's matcher, which throws beyond 100 levels.
 */
export const brokerChannelPrefix = (redisKeyPrefix: string) =>
  brokerKeyPrefix(redisKeyPrefix).replace(/[^A-Za-z0-9:._-]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''))

/**
 * mqemitter-redis with its topics (and so its Redis channels) under a namespace: prefixed on emit
 * and subscribe, the prefix stripped again before a listener sees the message, so Aedes never sees
 * it. (mqemitter-redis' own MQEmitterRedisPrefix does the same but keeps one wrapper per listener
 * function, wrong for a listener on two topics: removed from one, it would go on hearing it.)
 * A subscription whose first level is a wildcard (`#`, `+/…`) would not match here, the namespace
 * being part of the first level: neither Aedes (`$SYS/+/…`) nor the subscription ACL makes one.
 */
export class NamespacedEmitter {
  private readonly wrappers = new Map<Listener, Map<string, Listener>>()

  constructor(readonly inner: Emitter, private readonly namespace: string) {}

  on(topic: string, listener: Listener, done?: () => void): this {
    let byTopic = this.wrappers.get(listener)
    if (!byTopic) this.wrappers.set(listener, byTopic = new Map<string, Listener>())
    let wrapper = byTopic.get(topic)
    if (!wrapper) {
      const strip = this.namespace.length
      wrapper = (message, cb) => { listener({ ...message, topic: message.topic.slice(strip) }, cb) }
      byTopic.set(topic, wrapper)
    }
    this.inner.on(this.namespace + topic, wrapper, done)
    return this
  }

  removeListener(topic: string, listener: Listener, done?: () => void): void {
    const byTopic = this.wrappers.get(listener)
    const wrapper = byTopic?.get(topic)
    if (!byTopic || !wrapper) {
      if (done) setImmediate(done)
      return
    }
    byTopic.delete(topic)
    if (byTopic.size === 0) this.wrappers.delete(listener)
    this.inner.removeListener(this.namespace + topic, wrapper, done)
  }

  emit(message: Message, done?: (error?: Error) => void): void {
    this.inner.emit({ ...message, topic: this.namespace + message.topic }, done)
  }

  /**
   * mqemitter-redis' close() calls quit() on both its connections without handling a rejection and
   * waits for their 'end': during a Redis outage a quit waits in the offline queue until ioredis'
   * maxRetriesPerRequest gives up (~10 s), then rejects, unhandled, and kills the process. Their
   * quit is made endConnection's, which never rejects and ends a connection that is not ready at
   * once, so the 'end' that close() waits for comes (tests/integration/broker/redis-outage-connect.test.ts).
   */
  close(done: () => void): void {
    const { subConn, pubConn } = this.inner as Emitter & { subConn: Redis, pubConn: Redis }
    for (const conn of [subConn, pubConn]) {
      const quit = conn.quit.bind(conn)
      conn.quit = () => {
        // ended already (abandonUnavailable): ioredis emits 'end' once, and close() waits for it
        if (conn.status === 'end') process.nextTick(() => conn.emit('end'))
        return endConnection(conn, () => quit()).then(() => 'OK' as const)
      }
    }
    this.inner.close(done)
  }
}

/** No bound on sessions: for callers that only ask which backends a configuration gets. */
const unbounded = { limits: { maxQueued: 0, dropped: () => {} }, expiryS: 0 }

export function clusterBackends(
  config: Pick<Config, 'REDIS_URL' | 'MQTT_CLUSTER' | 'REDIS_KEY_PREFIX'>, log: Logger,
  sessions: { limits: SessionLimits, expiryS: number } = unbounded,
): ClusterBackends {
  if (config.MQTT_CLUSTER === 'on' && !config.REDIS_URL) throw new Error('MQTT_CLUSTER=on needs REDIS_URL')
  if (!config.REDIS_URL || config.MQTT_CLUSTER === 'off') return { options: {}, clustered: false, available: () => true, abandonUnavailable: () => {}, close: async () => {} }
  const url = config.REDIS_URL
  // pub/sub connections: keyPrefix would not apply to channels anyway (NamespacedEmitter does that)
  const [subConn, pubConn] = [new Redis(url), new Redis(url)]
  const conn = new Redis(url, { keyPrefix: brokerKeyPrefix(config.REDIS_KEY_PREFIX) })
  reportOutages(subConn, log, 'broker subscriptions')
  reportOutages(pubConn, log, 'broker publications')
  reportOutages(conn, log, 'broker sessions')
  const inner = mqemitterRedis({ subConn, pubConn })
  // the emitter mqemitter-redis relays its connections' errors on (untyped in its .d.ts): an
  // unheard 'error' there would throw and kill the node
  swallowRelayedErrors((inner as typeof inner & { state: EventEmitter }).state)
  const mq = new NamespacedEmitter(inner, brokerChannelPrefix(config.REDIS_KEY_PREFIX))
  const persistence = new RedisPersistence(conn, sessions.limits, sessions.expiryS, log)
  return {
    options: { mq, persistence },
    sessions: persistence,
    clustered: true,
    available: () => conn.status === 'ready',
    abandonUnavailable: () => {
      for (const c of [subConn, pubConn, conn]) if (c.status !== 'ready') void endConnection(c)
    },
    close: async () => {
      await persistence.destroy()
      // destroy() disconnect()s the connection, which during an outage leaves it 'reconnecting' for
      // good, its commands unanswered: ended for certain (a no-op once it has)
      await endConnection(conn)
    },
  }
}
