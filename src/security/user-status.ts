// What an access token is checked against on every user request: its user's current row. A JWT is
// valid until it expires (ACCESS_TOKEN_TTL_S), but a user who was disabled or deleted must be
// locked out at once, and a demoted admin must lose admin rights at once, so the role in the token
// has to match the row. So does the session version: a password change or a disable bumps it, so
// the tokens issued before stay dead even when the user is re-enabled within their lifetime.
// Reading the row on every request would add a query to each one: the answer is cached per node
// for TTL_MS instead. The user routes forget() an entry the moment they
// change that user, and announce the change on the bus so that every node forgets it too; should
// that message be lost, the entry still expires within TTL_MS (docs/security.md).
import type pg from 'pg'
import type { UserClaims, UserRole } from './tokens.js'

export interface UserStatus {
  role: UserRole
  platformAdmin: boolean
  disabled: boolean
  sessionVersion: number
}

export const TTL_MS = 5_000
const MAX_CACHED = 10_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class UserStatusCache {
  /** the lookup itself is cached, so the requests of one user arriving together share one query */
  private readonly cache = new Map<string, { at: number, status: Promise<UserStatus | null> }>()

  constructor(private readonly pool: Pick<pg.Pool, 'query'>, private readonly ttlMs = TTL_MS) {}

  /** The user's row as it is now (at most ttlMs old), or null when there is no such user. */
  get(tenantId: string, userId: string): Promise<UserStatus | null> {
    const key = `${tenantId}/${userId}`
    const hit = this.cache.get(key)
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.status
    // re-inserting keeps the Map in age order, so the first key is always the one to evict
    this.cache.delete(key)
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!)
    const status = this.lookup(tenantId, userId)
    const entry = { at: Date.now(), status }
    this.cache.set(key, entry)
    // a failed lookup is not an answer: the next request asks again (unless forget() came first)
    status.catch(() => { if (this.cache.get(key) === entry) this.cache.delete(key) })
    return status
  }

  /** Called after a user changes on this node; a lookup already in flight is not cached either. */
  forget(tenantId: string, userId: string): void {
    this.cache.delete(`${tenantId}/${userId}`)
  }

  private async lookup(tenantId: string, userId: string): Promise<UserStatus | null> {
    // claims come from a verified token, but a malformed id would make PostgreSQL throw: no such user
    if (!UUID.test(tenantId) || !UUID.test(userId)) return null
    const { rows } = await this.pool.query<UserStatus>(
      'SELECT role, platform_admin AS "platformAdmin", disabled, session_version AS "sessionVersion" FROM users WHERE tenant_id = $1 AND id = $2',
      [tenantId, userId])
    return rows[0] ?? null
  }
}

/** Why a token no longer speaks for its user, or null while it still does. */
export function revokedBecause(claims: UserClaims, status: UserStatus | null): string | null {
  if (!status || status.disabled) return 'this session was revoked (the user was disabled or deleted): sign in again'
  if ((claims.sv ?? 0) !== status.sessionVersion) return 'this session was revoked (the password was changed or the user disabled since): sign in again'
  if (status.role !== claims.role || status.platformAdmin !== (claims.pa === true)) {
    return 'this token was issued for a role the user no longer has: refresh it or sign in again'
  }
  return null
}
