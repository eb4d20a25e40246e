// Where the broker keeps subscriptions, sessions and message fan-out: in process by default, in
// Redis when REDIS_URL is set, so every node sees every subscription and session (DESIGN.md: aedes
// 1.2 fits aedes-persistence-redis 11 and mqemitter-redis 7). Aedes 1.x awaits its persistence,
// so the package's async implementation is used directly rather than its callback wrapper; its
// retained-message query returns an async generator where aedes 1.2 pipes a stream, hence the
// Readable.from below (found by tests/integration/broker/cluster.test.ts).
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

export function clusterBackends(config: Pick<Config, 'REDIS_URL' | 'MQTT_CLUSTER'>, log: Logger): ClusterBackends {
  if (config.MQTT_CLUSTER === 'on' && !config.REDIS_URL) throw new Error('MQTT_CLUSTER=on needs REDIS_URL')
  if (!config.REDIS_URL || config.MQTT_CLUSTER === 'off') return { options: {}, clustered: false, close: async () => {} }
  const url = config.REDIS_URL
  const [subConn, pubConn, conn] = [new Redis(url), new Redis(url), new Redis(url)]
  reportOutages(subConn, log, 'broker subscriptions')
  reportOutages(pubConn, log, 'broker publications')
  reportOutages(conn, log, 'broker sessions')
  const mq = mqemitterRedis({ subConn, pubConn })
  // the emitter mqemitter-redis relays its connections' errors on (untyped in its .d.ts): an
  // unheard 'error' there would throw and kill the node
  swallowRelayedErrors((mq as typeof mq & { state: EventEmitter }).state)
  const persistence = new RedisPersistence({ conn })
  return {
    options: { mq, persistence },
    clustered: true,
    close: () => persistence.destroy(),
  }
}
