// The login throttle on a fake clock: locks after the threshold, doubles up to a cap, forgets, counts
// attempts in flight, and holds a bounded number of keys.
import { describe, expect, it } from 'vitest'
import { FailureThrottle, LoginThrottle, MAX_DOUBLINGS, addressKey } from '../../../src/security/login-throttle.js'

function clock() {
  let t = 1_000_000
  return { now: () => t, advance: (ms: number) => { t += ms } }
}

/** One failed attempt on `key`, or the wait in ms when it is refused. */
function failOnce(throttle: FailureThrottle, key: string): number | 'failed' {
  const wait = throttle.begin(key)
  if (wait !== null) return wait
  throttle.fail(key)
  return 'failed'
}

describe('FailureThrottle', () => {
  it('locks a key at its maxFailures-th failure, for lockMs, then for twice as long after each further failure, up to the cap', () => {
    const c = clock()
    const t = new FailureThrottle({ maxFailures: 3, lockMs: 1000, now: c.now })
    for (let i = 0; i < 3; i++) expect(failOnce(t, 'a')).toBe('failed')
    expect(t.begin('a')).toBe(1000)
    c.advance(999)
    expect(t.begin('a')).toBe(1)
    const waits: number[] = []
    for (let lock = 1; lock <= MAX_DOUBLINGS + 2; lock++) {
      c.advance(waits.at(-1) ?? 1)
      expect(failOnce(t, 'a')).toBe('failed') // one failure after a lock locks again
      waits.push(t.begin('a')!)
    }
    expect(waits).toEqual([2000, 4000, 8000, 16000, 16000, 16000])
  })

  it('does not lock another key, and a success starts the key afresh', () => {
    const c = clock()
    const t = new FailureThrottle({ maxFailures: 3, lockMs: 1000, now: c.now })
    for (let i = 0; i < 2; i++) failOnce(t, 'a')
    expect(t.begin('b')).toBeNull()
    t.succeed('b')
    expect(t.begin('a')).toBeNull()
    t.succeed('a')
    for (let i = 0; i < 2; i++) expect(failOnce(t, 'a')).toBe('failed')
    expect(t.begin('a')).toBeNull() // two failures since the success: not locked
  })

  it('forgets a key after the longest lock without a failure, counted from the end of its lock', () => {
    const c = clock()
    const t = new FailureThrottle({ maxFailures: 3, lockMs: 1000, now: c.now })
    for (let i = 0; i < 3; i++) failOnce(t, 'a')
    c.advance(1000 + 1000 * 2 ** MAX_DOUBLINGS - 1)
    expect(failOnce(t, 'a')).toBe('failed')
    expect(t.begin('a')).toBe(2000) // not yet forgotten: locked again, for longer
    c.advance(2000 + 1000 * 2 ** MAX_DOUBLINGS)
    expect(t.begin('a')).toBeNull()
    t.fail('a')
    expect(t.begin('a')).toBeNull() // one failure, not a lock: the count started over
  })

  it('counts attempts in flight: no more at once than failures left', () => {
    const t = new FailureThrottle({ maxFailures: 5, lockMs: 60_000 })
    const started = Array.from({ length: 60 }, () => t.begin('a'))
    expect(started.filter((w) => w === null)).toHaveLength(5)
    expect(started.filter((w) => w === 60_000)).toHaveLength(55)
    t.release('a') // one ended without a verdict: its slot is free again
    expect(t.begin('a')).toBeNull()
  })

  it('does nothing with maxFailures 0', () => {
    const t = new FailureThrottle({ maxFailures: 0, lockMs: 1000 })
    for (let i = 0; i < 100; i++) expect(failOnce(t, 'a')).toBe('failed')
    expect(t.size).toBe(0)
  })

  it('holds at most maxEntries keys, dropping the one that failed longest ago', () => {
    const c = clock()
    const t = new FailureThrottle({ maxFailures: 2, lockMs: 1000, maxEntries: 100, now: c.now })
    failOnce(t, 'first')
    for (let i = 0; i < 10_000; i++) { c.advance(1); failOnce(t, `spray-${i}`) }
    expect(t.size).toBe(100)
    // the oldest key went first: 'first' starts afresh, the newest keys are still counted
    expect(failOnce(t, 'first')).toBe('failed')
    expect(t.begin('first')).toBeNull()
    failOnce(t, 'spray-9999')
    expect(t.begin('spray-9999')).toBe(1000)
  })
})

describe('LoginThrottle', () => {
  it('refuses by account whatever the case of the email, and by address only past its own threshold', () => {
    const c = clock()
    const t = new LoginThrottle({ maxFailures: 2, addressMaxFailures: 5, lockS: 30, now: c.now })
    const fail = (email: string, ip: string) => {
      const v = t.begin(email, ip)
      if (!v.allowed) return v.retryAfterS
      v.attempt.failed()
      v.attempt.end()
      return 'failed'
    }
    expect(fail('Ann@x.test', '10.0.0.1')).toBe('failed')
    expect(fail('ann@X.test', '10.0.0.2')).toBe('failed')
    expect(fail('ann@x.test', '10.0.0.3')).toBe(30) // the account, from anywhere
    expect(fail('bob@x.test', '10.0.0.1')).toBe('failed')
    expect(fail('carl@x.test', '10.0.0.1')).toBe('failed')
    expect(fail('dan@x.test', '10.0.0.1')).toBe('failed')
    expect(fail('fay@x.test', '10.0.0.1')).toBe('failed') // the address's 5th failure (ann's first was from here)
    expect(fail('eve@x.test', '10.0.0.1')).toBe(30) // a fresh account, refused by the address
    expect(fail('eve@x.test', '10.0.0.9')).toBe('failed')
  })

  it('does not let a success from the address reset the address\'s count', () => {
    const t = new LoginThrottle({ maxFailures: 10, addressMaxFailures: 2, lockS: 30 })
    for (const email of ['a@x.test', 'b@x.test']) {
      const v = t.begin(email, '10.0.0.1')
      if (v.allowed) { v.attempt.failed(); v.attempt.end() }
      const mine = t.begin('me@x.test', '10.0.0.1')
      if (mine.allowed) { mine.attempt.succeeded(); mine.attempt.end() }
    }
    expect(t.begin('c@x.test', '10.0.0.1')).toEqual({ allowed: false, retryAfterS: 30 })
  })
})

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1%eth0', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s → %s', (ip, key) => expect(addressKey(ip)).toBe(key))
})
