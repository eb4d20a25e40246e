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
import { reportOutages, swallowRelayedErrors } from '../redis/outages.js'

export interface ClusterBackends {
  options: Pick<AedesOptions, 'mq' | 'persistence'>
  /** subscriptions and sessions are shared through Redis (false: this node's memory only) */
  clustered: boolean
  /** after Aedes closed (it closes the emitter itself) */
  close: () => Promise<void>
}

class RedisPersistence extends AsyncPersistence {
  override createRetainedStreamCombi(patterns: string[]): Readable {
    return Readable.from(super.createRetainedStreamCombi(patterns))
  }

  override createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
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

  close(done: () => void): void {
    this.inner.close(done)
  }
}

export function clusterBackends(config: Pick<Config, 'REDIS_URL' | 'MQTT_CLUSTER' | 'REDIS_KEY_PREFIX'>, log: Logger): ClusterBackends {
  if (config.MQTT_CLUSTER === 'on' && !config.REDIS_URL) throw new Error('MQTT_CLUSTER=on needs REDIS_URL')
  if (!config.REDIS_URL || config.MQTT_CLUSTER === 'off') return { options: {}, clustered: false, close: async () => {} }
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
  const persistence = new RedisPersistence({ conn })
  return {
    options: { mq, persistence },
    clustered: true,
    close: () => persistence.destroy(),
  }
}
