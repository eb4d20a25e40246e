// Asset state and presence in Redis, for production and for several nodes. Every state write is a
// Lua compare-and-set on a version (no lost update between nodes) that also refuses to move the
// last fix backward in event time. Presence writes are coalesced and flushed once a second.
import { Redis } from 'ioredis'
import type { AssetKey, AssetStateStore, CasResult, Presence, PresenceStore } from '../core/ports.js'
import type { AssetState } from '../core/state.js'

const CAS = `
local cur = redis.call('HMGET', KEYS[1], 'v', 'ts')
local v = tonumber(cur[1] or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
if tonumber(ARGV[2]) < tonumber(cur[2] or '-1') then return -1 end
redis.call('HSET', KEYS[1], 'v', v + 1, 'ts', ARGV[2], 'doc', ARGV[3])
return 1`

// online only from the connection that is current; a late disconnect of an old one changes nothing
const CONNECTED = `
redis.call('HSET', KEYS[1], 'on', 1, 'conn', ARGV[1], 'seen', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1`
// a disconnected device stays watched: it is reported offline if it does not come back
const DISCONNECTED = `
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'conn') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'on', 0)
local seen = tonumber(redis.call('HGET', KEYS[1], 'seen') or '0')
if tonumber(ARGV[2]) > seen then redis.call('HSET', KEYS[1], 'seen', ARGV[2]) end
return 1`

type Scripted = Redis & {
  retrackCas(key: string, expected: number, ts: number, doc: string): Promise<number>
  retrackConnected(key: string, zset: string, conn: string, at: number, member: string): Promise<number>
  retrackDisconnected(key: string, zset: string, conn: string, at: number, member: string): Promise<number>
}

export function createRedis(url: string): Scripted {
  // No auto-pipelining: ioredis keeps one auto-pipeline in flight per connection and holds the next
  // batch until its reply is back (autoPipelining.js, 5.11), so under load every compare-and-set
  // waits out another round trip. Commands written as they come are pipelined on the socket anyway.
  // bench:ingest at 15.5k msg/s: p99 publish→state 34 ms without, 88–115 ms with (docs/performance.md).
  const redis = new Redis(url, { enableAutoPipelining: false, maxRetriesPerRequest: 3, lazyConnect: false }) as Scripted
  redis.defineCommand('retrackCas', { numberOfKeys: 1, lua: CAS })
  redis.defineCommand('retrackConnected', { numberOfKeys: 2, lua: CONNECTED })
  redis.defineCommand('retrackDisconnected', { numberOfKeys: 2, lua: DISCONNECTED })
  return redis
}

export class RedisStateStore implements AssetStateStore {
  constructor(private readonly redis: Scripted, private readonly prefix: string) {}

  private key(k: AssetKey) { return `${this.prefix}state:${k.tenantId}:${k.deviceId}` }

  async get(key: AssetKey): Promise<AssetState | null> {
    const [version, doc] = await this.redis.hmget(this.key(key), 'v', 'doc')
    return doc ? { ...JSON.parse(doc) as AssetState, version: Number(version) } : null
  }

  async getMany(keys: AssetKey[]): Promise<Array<AssetState | null>> {
    return Promise.all(keys.map((k) => this.get(k)))
  }

  async compareAndSet(next: AssetState, expectedVersion: number): Promise<CasResult> {
    const doc = JSON.stringify({ ...next, version: expectedVersion + 1 })
    const result = await this.redis.retrackCas(this.key(next), expectedVersion, next.lastFix?.ts ?? -1, doc)
    return result === 1 ? 'ok' : result === -1 ? 'stale' : 'conflict'
  }

  async close(): Promise<void> {}
}

export class RedisPresenceStore implements PresenceStore {
  private pending = new Map<string, { key: AssetKey, at: number, fixTs?: number }>()
  private readonly timer: NodeJS.Timeout
  private readonly zset: string

  constructor(private readonly redis: Scripted, private readonly prefix: string, flushEveryMs = 1000) {
    // every device watched for silence, scored by its last activity (the offline sweep reads it)
    this.zset = `${prefix}presence:watch`
    this.timer = setInterval(() => { void this.flush() }, flushEveryMs)
    this.timer.unref()
  }

  private key(k: AssetKey) { return `${this.prefix}presence:${k.tenantId}:${k.deviceId}` }
  private member(k: AssetKey) { return `${k.tenantId}:${k.deviceId}` }

  async connected(key: AssetKey, connection: string, at: number): Promise<void> {
    await this.redis.retrackConnected(this.key(key), this.zset, connection, at, this.member(key))
  }

  async disconnected(key: AssetKey, connection: string | null, at: number): Promise<void> {
    await this.redis.retrackDisconnected(this.key(key), this.zset, connection ?? '', at, this.member(key))
  }

  seen(key: AssetKey, at: number, fixTs?: number): void {
    const id = this.member(key)
    const prev = this.pending.get(id)
    const merged = { key, at: Math.max(at, prev?.at ?? 0) } as { key: AssetKey, at: number, fixTs?: number }
    const fix = Math.max(fixTs ?? -1, prev?.fixTs ?? -1)
    if (fix >= 0) merged.fixTs = fix
    this.pending.set(id, merged)
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const pipeline = this.redis.pipeline()
    for (const { key, at, fixTs } of batch.values()) {
      pipeline.hset(this.key(key), 'seen', at, ...(fixTs !== undefined ? ['fix', fixTs] : []))
      pipeline.zadd(this.zset, 'GT', at, this.member(key))
    }
    await pipeline.exec()
  }

  async get(keys: AssetKey[]): Promise<Map<string, Presence>> {
    const rows = await Promise.all(keys.map((k) => this.redis.hmget(this.key(k), 'on', 'seen', 'fix', 'conn')))
    const out = new Map<string, Presence>()
    rows.forEach(([on, seen, fix, conn], i) => {
      if (on === null && seen === null) return
      const pending = this.pending.get(this.member(keys[i]!))
      out.set(keys[i]!.deviceId, {
        online: on === '1',
        lastSeenAt: Math.max(Number(seen ?? 0), pending?.at ?? 0) || null,
        lastFixAt: Math.max(Number(fix ?? 0), pending?.fixTs ?? 0) || null,
        connection: conn ?? null,
      })
    })
    return out
  }

  async silentSince(before: number, limit: number): Promise<AssetKey[]> {
    const members = await this.redis.zrangebyscore(this.zset, '-inf', `(${before}`, 'LIMIT', 0, limit)
    return members.map((m) => {
      const i = m.indexOf(':')
      return { tenantId: m.slice(0, i), deviceId: m.slice(i + 1) }
    })
  }

  async settle(keys: AssetKey[]): Promise<void> {
    if (keys.length > 0) await this.redis.zrem(this.zset, ...keys.map((k) => this.member(k)))
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.flush()
  }
}
