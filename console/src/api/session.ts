// The signed-in user and their tokens. Kept in sessionStorage, so per tab: refresh tokens rotate
// on every use and presenting a used one ends every session of the user, so two tabs must never
// share (and race to rotate) the same refresh token.
import { ApiError, apiErrorOf, fetchOrOffline } from './errors.js'
import type { Role, SessionResponse, SessionUser } from './types.js'

const STORAGE_KEY = 'retrack.session'
/** refresh this long before the access token expires, so a stream reconnect never presents a stale one */
const REFRESH_MARGIN_MS = 60_000

/** The part of Storage the session uses: the tab's sessionStorage (main.ts), a stand-in in tests. */
export interface SessionStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

interface Stored { accessToken: string, refreshToken: string, expiresAt: number, user: SessionUser }

const ROLES: readonly Role[] = ['admin', 'operator', 'viewer']
/** An unknown role gets the least: the API decides anyway, the console only hides what it would refuse. */
const toRole = (role: string): Role => ROLES.find((r) => r === role) ?? 'viewer'

function toStored(response: SessionResponse): Stored {
  return {
    accessToken: response.accessToken,
    refreshToken: response.refreshToken,
    expiresAt: Date.now() + response.expiresIn * 1000,
    user: { ...response.user, role: toRole(response.user.role) },
  }
}

function readStored(storage: SessionStore): Stored | null {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null')
    if (typeof parsed !== 'object' || parsed === null) return null
    const s = parsed as Partial<Stored>
    if (typeof s.accessToken !== 'string' || typeof s.refreshToken !== 'string' || typeof s.expiresAt !== 'number' || !s.user) return null
    return s as Stored
  } catch {
    return null
  }
}

async function postJson(path: string, body: object): Promise<Response> {
  return fetchOrOffline(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

export class Session {
  private stored: Stored | null
  private refreshing: Promise<string> | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly listeners = new Set<(user: SessionUser | null) => void>()

  constructor(private readonly storage: SessionStore) {
    this.stored = readStored(storage)
    this.schedule()
  }

  get user(): SessionUser | null { return this.stored?.user ?? null }
  /** operators and admins record events and cancel shipments */
  get canAct(): boolean { return this.user?.role === 'admin' || this.user?.role === 'operator' }
  get isAdmin(): boolean { return this.user?.role === 'admin' }

  onChange(listener: (user: SessionUser | null) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async login(email: string, password: string, tenant?: string): Promise<SessionUser> {
    const response = await postJson('/api/v1/auth/login', { email, password, ...(tenant ? { tenant } : {}) })
    if (!response.ok) throw await apiErrorOf(response)
    this.save(toStored(await response.json() as SessionResponse))
    return this.stored!.user
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (!this.stored) throw new ApiError(401, 'UNAUTHORIZED', 'signed out')
    if (this.stored.expiresAt - Date.now() > REFRESH_MARGIN_MS / 2) return this.stored.accessToken
    return this.refresh()
  }

  /** Trades the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => { this.refreshing = null })
    return this.refreshing
  }

  async logout(): Promise<void> {
    const refreshToken = this.stored?.refreshToken
    this.end()
    if (refreshToken) await postJson('/api/v1/auth/logout', { refreshToken }).catch(() => undefined)
  }

  /** Forgets the tokens (signed out, or the refresh token was refused). */
  end(): void {
    clearTimeout(this.timer)
    this.stored = null
    this.storage.removeItem(STORAGE_KEY)
    for (const listener of this.listeners) listener(null)
  }

  private async doRefresh(): Promise<string> {
    const current = this.stored
    if (!current) throw new ApiError(401, 'UNAUTHORIZED', 'signed out')
    const response = await postJson('/api/v1/auth/refresh', { refreshToken: current.refreshToken })
    if (!response.ok) {
      const error = await apiErrorOf(response)
      if (response.status === 401) this.end()
      throw error
    }
    this.save(toStored(await response.json() as SessionResponse))
    return this.stored!.accessToken
  }

  private save(stored: Stored): void {
    // listeners hear sign-in, sign-out and a new role (a refresh after an admin changed it), not
    // every silent refresh
    const changed = this.stored?.user.id !== stored.user.id || this.stored.user.role !== stored.user.role
    this.stored = stored
    this.storage.setItem(STORAGE_KEY, JSON.stringify(stored))
    this.schedule()
    if (changed) for (const listener of this.listeners) listener(stored.user)
  }

  /** Refreshes ahead of expiry, so an idle page still holds a token its live stream can reconnect with. */
  private schedule(): void {
    clearTimeout(this.timer)
    if (!this.stored) return
    const wait = Math.max(1000, this.stored.expiresAt - Date.now() - REFRESH_MARGIN_MS)
    this.timer = setTimeout(() => { this.refresh().catch(() => undefined) }, wait)
  }
}
