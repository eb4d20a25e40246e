// The Redis backends for Aedes ship no types for the parts ReTrack uses.
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis'
  export default class AsyncPersistence {
    constructor(opts: { conn?: Redis, maxSessionDelivery?: number })
    destroy(): Promise<void>
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>
    createRetainedStream(pattern: string): AsyncIterable<unknown>
  }
}
