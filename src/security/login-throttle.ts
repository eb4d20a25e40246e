// Failed sign-ins, counted per account (its email, whatever the tenant) and per client address. A key
// with `maxFailures` failures is locked for `lockMs`; each lock after that comes after one more
// failure and lasts twice as long, up to MAX_DOUBLINGS doublings; a key with no failure for that
// longest lock (counted from the end of its last lock) is forgotten. A success forgets its account (not its address: one account of one's
// own must not reset the address's count for guessing at others). Locks end by themselves: a lock
// that never ended would let anyone shut anyone out.
// Attempts in flight count too: 60 wrong passwords sent at once get `maxFailures` answers, not 60.
// Memory is bounded (`maxEntries`, the key that failed longest ago goes first), and it is per process:
// every node (and WORKERS process) counts on its own (docs/security.md).

/** The longest lock is the first one times 2^MAX_DOUBLINGS (60 s → 16 min). */
export const MAX_DOUBLINGS = 4
export const DEFAULT_MAX_ENTRIES = 50_000

interface Entry {
  /** failures since the key was last forgotten, held at maxFailures - 1 once it has been locked */
  failures: number
  /** attempts begun and not yet settled */
  pending: number
  /** locks so far: the next one lasts lockMs × 2^locks */
  locks: number
  lockedUntil: number
  lastFailureAt: number
}

export interface ThrottleOptions {
  /** failures before a lock; 0 turns the rule off */
  maxFailures: number
  /** the first lock */
  lockMs: number
  maxEntries?: number
  now?: () => number
}

/** One rule: failures counted per key, in a bounded map. */
export class FailureThrottle {
  private readonly entries = new Map<string, Entry>()
  private readonly maxEntries: number
  private readonly now: () => number

  constructor(private readonly options: ThrottleOptions) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.now = options.now ?? Date.now
  }

  get size(): number { return this.entries.size }

  private get longestLockMs(): number { return this.options.lockMs * 2 ** MAX_DOUBLINGS }

  private lockMsAfter(locks: number): number { return this.options.lockMs * 2 ** Math.min(locks, MAX_DOUBLINGS) }

  private entry(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key)
    if (e && e.pending === 0 && now - Math.max(e.lastFailureAt, e.lockedUntil) >= this.longestLockMs) {
      this.entries.delete(key)
      return undefined
    }
    return e
  }

  /** Reserves an attempt, or says in how many ms the key may try again. */
  begin(key: string): number | null {
    if (this.options.maxFailures <= 0) return null
    const now = this.now()
    let e = this.entry(key, now)
    if (e && e.lockedUntil > now) return e.lockedUntil - now
    // as many attempts in flight as failures left: were they all to fail, the last one locks
    if (e && e.failures + e.pending >= this.options.maxFailures) return this.lockMsAfter(e.locks)
    if (!e) {
      e = { failures: 0, pending: 0, locks: 0, lockedUntil: 0, lastFailureAt: now }
      this.put(key, e)
    }
    e.pending++
    return null
  }

  /** The attempt failed; true when that locked the key. */
  fail(key: string): boolean {
    if (this.options.maxFailures <= 0) return false
    const now = this.now()
    const e = this.entry(key, now) ?? { failures: 0, pending: 0, locks: 0, lockedUntil: 0, lastFailureAt: now }
    e.pending = Math.max(0, e.pending - 1)
    e.failures++
    e.lastFailureAt = now
    this.put(key, e) // to the end of the map: the entry to evict first is the one that failed longest ago
    if (e.failures < this.options.maxFailures) return false
    e.lockedUntil = now + this.lockMsAfter(e.locks)
    e.locks++
    e.failures = this.options.maxFailures - 1
    return true
  }

  /** The attempt succeeded: the key starts afresh. */
  succeed(key: string): void {
    this.entries.delete(key)
  }

  /** The attempt ended without a verdict on the credentials (a fault, or the right password but several tenants). */
  release(key: string): void {
    const e = this.entries.get(key)
    if (e) e.pending = Math.max(0, e.pending - 1)
  }

  private put(key: string, e: Entry): void {
    this.entries.delete(key)
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, e)
  }
}

/**
 * The key of a client address: an IPv4 address as it is, an IPv6 address by its /64 (one host
 * usually holds a whole /64, so single addresses would cost it nothing to change).
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped) return mapped[1]!
  if (!ip.includes(':')) return ip
  const [head = '', tail] = ip.split('%')[0]!.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

export interface LoginThrottleOptions {
  /** failures of one account before it is locked; 0: no account rule */
  maxFailures: number
  /** failures from one address before it is locked; 0: no address rule */
  addressMaxFailures: number
  /** the first lock, in seconds */
  lockS: number
  maxEntries?: number
  now?: () => number
}

/** An attempt under way; settle it once (later calls do nothing), and `end()` it in any case. */
export interface LoginAttempt {
  failed(): 'account' | 'address' | null
  succeeded(): void
  /** releases the attempt if it was not settled */
  end(): void
}

export type LoginVerdict = { allowed: true, attempt: LoginAttempt } | { allowed: false, retryAfterS: number }

/** The account rule and the address rule together. */
export class LoginThrottle {
  private readonly accounts: FailureThrottle
  private readonly addresses: FailureThrottle

  constructor(options: LoginThrottleOptions) {
    const common = { lockMs: options.lockS * 1000, ...(options.maxEntries ? { maxEntries: options.maxEntries } : {}), ...(options.now ? { now: options.now } : {}) }
    this.accounts = new FailureThrottle({ ...common, maxFailures: options.maxFailures })
    this.addresses = new FailureThrottle({ ...common, maxFailures: options.addressMaxFailures })
  }

  begin(email: string, ip: string): LoginVerdict {
    const account = email.toLowerCase()
    const address = addressKey(ip)
    const accountWait = this.accounts.begin(account)
    if (accountWait !== null) return { allowed: false, retryAfterS: Math.ceil(accountWait / 1000) }
    const addressWait = this.addresses.begin(address)
    if (addressWait !== null) {
      this.accounts.release(account)
      return { allowed: false, retryAfterS: Math.ceil(addressWait / 1000) }
    }
    let settled = false
    const settle = () => { const first = !settled; settled = true; return first }
    return {
      allowed: true,
      attempt: {
        failed: () => {
          if (!settle()) return null
          const accountLocked = this.accounts.fail(account)
          const addressLocked = this.addresses.fail(address)
          return accountLocked ? 'account' : addressLocked ? 'address' : null
        },
        succeeded: () => {
          if (!settle()) return
          this.accounts.succeed(account)
          this.addresses.release(address)
        },
        end: () => {
          if (!settle()) return
          this.accounts.release(account)
          this.addresses.release(address)
        },
      },
    }
  }
}
