// Where the broker keeps subscriptions, sessions and message fan-out: in process by default, in
// Redis when REDIS_URL is set, so every node sees every subscription and session (DESIGN.md: aedes
// 1.2 fits aedes-persistence-redis 11 and mqemitter-redis 7).
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
//
// The persistence is in redis-persistence.ts, the channel namespace in namespaced-emitter.ts.
import type { EventEmitter } from 'node:events'
import type { AedesOptions } from 'aedes'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { endConnection } from '../redis/end-connection.js'
import { reportOutages, swallowRelayedErrors } from '../redis/outages.js'
import type { SessionLimits, SessionStore } from './sessions.js'
import { NamespacedEmitter, brokerChannelPrefix, brokerKeyPrefix } from './namespaced-emitter.js'
import { RedisPersistence } from './redis-persistence.js'

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
