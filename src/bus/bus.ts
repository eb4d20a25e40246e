// Node-to-node notifications (credentials revoked, configuration changed, live events): in process
// by default, over Redis pub/sub when several nodes share a Redis. Handlers are isolated: one that
// throws does not stop the others.
import { EventEmitter } from 'node:events'
import { Redis } from 'ioredis'
import type { Logger } from '../logger.js'
import { endConnection } from '../redis/end-connection.js'
import { reportOutages } from '../redis/outages.js'

export type Handler<T> = (message: T) => void

export interface Bus {
  publish<T extends object>(channel: string, message: T): void
  subscribe<T extends object>(channel: string, handler: Handler<T>): () => void
  close(): Promise<void>
}

function guarded<T>(log: Logger, channel: string, handler: Handler<T>): Handler<T> {
  return (message) => {
    try { handler(message) } catch (err) { log.error({ err, channel }, 'bus handler failed') }
  }
}

export class LocalBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0)
  constructor(private readonly log: Logger) {}

  publish<T extends object>(channel: string, message: T): void {
    // asynchronous like Redis, so callers never depend on handlers running inside publish()
    queueMicrotask(() => this.emitter.emit(channel, message))
  }

  subscribe<T extends object>(channel: string, handler: Handler<T>): () => void {
    const h = guarded(this.log, channel, handler)
    this.emitter.on(channel, h)
    return () => this.emitter.off(channel, h)
  }

  async close(): Promise<void> { this.emitter.removeAllListeners() }
}

export class RedisBus implements Bus {
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly local = new EventEmitter().setMaxListeners(0)

  constructor(url: string, private readonly prefix: string, private readonly log: Logger) {
    this.pub = new Redis(url)
    this.sub = new Redis(url)
    reportOutages(this.pub, log, 'bus publications')
    reportOutages(this.sub, log, 'bus subscriptions')
    this.sub.on('message', (channel: string, raw: string) => {
      let message: unknown
      try { message = JSON.parse(raw) } catch { return this.log.warn({ channel }, 'bus message is not JSON') }
      this.local.emit(channel.slice(this.prefix.length), message)
    })
  }

  publish<T extends object>(channel: string, message: T): void {
    this.pub.publish(this.prefix + channel, JSON.stringify(message)).catch((err: unknown) => this.log.error({ err, channel }, 'bus publish failed'))
  }

  subscribe<T extends object>(channel: string, handler: Handler<T>): () => void {
    const h = guarded(this.log, channel, handler)
    if (this.local.listenerCount(channel) === 0) {
      this.sub.subscribe(this.prefix + channel).catch((err: unknown) => this.log.error({ err, channel }, 'bus subscribe failed'))
    }
    this.local.on(channel, h)
    return () => this.local.off(channel, h)
  }

  async close(): Promise<void> {
    this.local.removeAllListeners()
    // during a Redis outage a quit would wait in the offline queue for ~10 s: ended at once instead
    await Promise.all([endConnection(this.sub), endConnection(this.pub)])
  }
}
