// Which keys a test's Redis holds: SCAN (not KEYS, which blocks a shared server) over a pattern.
import type { Redis } from 'ioredis'

export async function redisKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = []
  for await (const batch of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch)
  return keys
}
