// Every Redis connection of a node is watched the same way. ioredis reconnects by itself, but a
// connection without an 'error' listener prints "[ioredis] Unhandled error event" with a stack on
// every retry, and mqemitter-redis re-emits its connections' errors on an emitter that, without a
// listener, throws: the whole node would die a second after Redis went away. Here an outage is
// logged once when it begins and once when it ends, as structured lines.
import type { EventEmitter } from 'node:events'
import type { Logger } from '../logger.js'

/** Logs `connection`'s outages (its 'error' and 'ready' events) once each way; `name` says which connection. */
export function reportOutages(connection: EventEmitter, log: Logger, name: string): void {
  let down = false
  connection.on('error', (err: Error) => {
    if (down) return
    down = true
    log.error({ redis: name, err: err.message }, 'Redis connection lost; reconnecting')
  })
  connection.on('ready', () => {
    if (!down) return
    down = false
    log.info({ redis: name }, 'Redis connection restored')
  })
}

/** For an emitter that only relays its connections' errors (they are reported on the connections). */
export function swallowRelayedErrors(emitter: EventEmitter): void {
  emitter.on('error', () => undefined)
}
