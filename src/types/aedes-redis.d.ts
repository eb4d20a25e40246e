// The persistences for Aedes ship no types for the parts ReTrack uses (aedes-persistence types its
// async memory persistence in a file TypeScript does not find from this subpath).

/** An Aedes packet as the persistences store it (aedes-packet). */
interface AedesStoredPacket {
  cmd: string
  brokerId: string
  brokerCounter: number
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup: boolean
  messageId?: number
  [key: string]: unknown
}

interface AedesStoredSubscription { clientId: string, topic: string, qos: number }

/** The asynchronous persistence API Aedes 1.x calls (aedes-persistence/abstract.js). */
declare class AedesAsyncPersistence {
  setup(broker: unknown): Promise<void>
  subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string, qos: number }>>
  removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>
  cleanSubscriptions(client: { id: string }): Promise<void>
  outgoingEnqueue(sub: { clientId: string }, packet: AedesStoredPacket): Promise<void>
  outgoingEnqueueCombi(subs: AedesStoredSubscription[], packet: AedesStoredPacket): Promise<void>
  outgoingUpdate(client: { id: string }, packet: AedesStoredPacket): Promise<void>
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<AedesStoredPacket | undefined>
  outgoingStream(client: { id: string }): AsyncIterable<AedesStoredPacket>
  incomingDelPacket(client: { id: string }, packet: { messageId?: number }): Promise<void>
  destroy(): Promise<void>
}

declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis'
  export default class AsyncPersistence extends AedesAsyncPersistence {
    constructor(opts: { conn?: Redis, maxSessionDelivery?: number, packetTTL?: (packet: AedesStoredPacket) => number })
    createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>
    createRetainedStream(pattern: string): AsyncIterable<unknown>
  }
}

declare module 'aedes-persistence/asyncPersistence.js' {
  class MemoryPersistence extends AedesAsyncPersistence {
    constructor(opts?: object)
    cleanIncoming(client: { id: string }): Promise<void>
    static Packet: new (packet: object, broker?: unknown) => AedesStoredPacket
  }
  export default MemoryPersistence
}
