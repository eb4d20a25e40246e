// The JWT signing secret: from JWT_SECRET, or generated once into DATA_DIR so an embedded install
// keeps its sessions across restarts. Production must set it (every node needs the same one).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, type Config } from './config.js'

/** Why the server cannot get its signing secret from this configuration, or null (checked before start-up). */
export function jwtSecretProblem(config: Pick<Config, 'JWT_SECRET' | 'NODE_ENV'>): string | null {
  return !config.JWT_SECRET && config.NODE_ENV === 'production' ? 'JWT_SECRET is required in production (every node must sign with the same one)' : null
}

export function jwtSecret(config: Pick<Config, 'JWT_SECRET' | 'DATA_DIR' | 'NODE_ENV'>): string {
  if (config.JWT_SECRET) return config.JWT_SECRET
  const problem = jwtSecretProblem(config)
  if (problem) throw new ConfigError(`invalid configuration: ${problem}`)
  if (config.DATA_DIR.startsWith('memory://')) return randomBytes(32).toString('base64url')
  const file = path.resolve(config.DATA_DIR, 'jwt-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(path.dirname(file), { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret, { mode: 0o600 })
  return secret
}
