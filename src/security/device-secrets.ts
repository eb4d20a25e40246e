// Device secrets are 256 random bits, shown once. A guessing attack on 2^256 is hopeless, so a fast
// SHA-256 (not a slow password hash) is the right store: it keeps thousands of reconnecting
// devices from burning the CPU that telemetry needs. Comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function hashDeviceSecret(secret: string | Buffer): string {
  return createHash('sha256').update(secret).digest('hex')
}

export function deviceSecretMatches(secret: string | Buffer, storedHash: string): boolean {
  const actual = Buffer.from(hashDeviceSecret(secret), 'hex')
  const expected = Buffer.from(storedHash, 'hex')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** Device ids are MQTT client ids and topic levels: no wildcards, no slashes, bounded length. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'
const deviceIdRe = new RegExp(DEVICE_ID_PATTERN)
export const isValidDeviceId = (id: string) => deviceIdRe.test(id)

export function newDeviceId(): string {
  // 16 chars of base32 (80 bits): unique across the broker without coordination, short for topics
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789'
  const bytes = randomBytes(16)
  let id = 'dev_'
  for (const b of bytes) id += alphabet[b % alphabet.length]
  return id
}
