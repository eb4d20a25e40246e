// The broker's namespace in a shared Redis (why: cluster.ts): its key prefix, and its pub/sub
// channels, which an ioredis keyPrefix does not touch, through NamespacedEmitter.
import type { Redis } from 'ioredis'
import type mqemitterRedis from 'mqemitter-redis'
import { endConnection } from '../redis/end-connection.js'

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
