// The Redis key scheme of the broker's persistence (redis-persistence.ts) and the Lua scripts it
// defines on its connection, each a step that must be atomic across nodes.
import type { Redis } from 'ioredis'

// aedes-persistence-redis' key scheme (under the connection's keyPrefix): a session's queue is the
// list `outgoing:<id>` of message keys `packet:<broker>:<counter>`, each message's body shared by the
// sessions it is queued for and counted in `packet:<broker>:<counter>:offlineCount`; a QoS 2 message
// acknowledged with PUBREC is replaced in the list by its PUBREL, `outgoing:<id>:<broker>:<counter>`;
// an inbound QoS 2 message awaiting PUBREL is `incoming:<id>:<packet id>`. Client ids are
// URI-encoded in keys. The registry of persistent sessions (sessions.ts) is ours: `sessions:seen`,
// a sorted set of client ids by the time (epoch ms) they were last connected, and
// `sessions:integrations`, the integration sessions among them (ids `<tenant>:<name>`, all scored 0
// so that one tenant's are a lexicographic range: ZLEXCOUNT `[acme:` `(acme;` counts acme's, ';'
// being the character after ':' and a tenant slug having no ':').
export const SEEN = 'sessions:seen'
export const INTEGRATION_SESSIONS = 'sessions:integrations'
/** the ZLEXCOUNT range of one tenant's integration sessions */
export const tenantRange = (tenantSlug: string) => [`[${tenantSlug}:`, `(${tenantSlug};`] as const
export const outgoingKey = (clientId: string) => `outgoing:${encodeURIComponent(clientId)}`
export const packetKey = (packet: { brokerId: string, brokerCounter: number }) => `packet:${packet.brokerId}:${packet.brokerCounter}`

export const scripts = {
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
  /** Removes a session from the registry if it is still stale: 1 for the one node that did. KEYS: registry, integration index; ARGV: client id, cutoff */
  retrackClaimSession: {
    numberOfKeys: 2,
    lua: `local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if at and tonumber(at) <= tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
return 0`,
  },
  /**
   * Registers an integration's persistent session (connected at ARGV[2]) if it already is one or
   * its tenant has fewer than the cap (0: no limit): 1, else 0 and nothing written. Atomic, so
   * CONNECTs on several nodes at once never take more places than there are.
   * KEYS: registry, integration index; ARGV: client id, time, cap, tenant range min, max.
   */
  retrackAdmitSession: {
    numberOfKeys: 2,
    lua: `local cap = tonumber(ARGV[3])
if cap > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZLEXCOUNT', KEYS[2], ARGV[4], ARGV[5]) >= cap then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1`,
  },
} as const

export type ScriptedRedis = Redis & {
  retrackTrimQueue(queue: string, cap: number, prefix: string): Promise<number>
  retrackDrainQueue(queue: string, prefix: string): Promise<number>
  retrackClaimSession(registry: string, index: string, clientId: string, cutoff: number): Promise<number>
  retrackAdmitSession(registry: string, index: string, clientId: string, at: number, cap: number, min: string, max: string): Promise<number>
}
