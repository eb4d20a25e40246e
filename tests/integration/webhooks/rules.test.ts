// The pure parts of webhooks: signatures (what a receiver verifies), the addresses and URLs a
// webhook may not call, the lookup that re-checks names at delivery, and the retry schedule.
import { describe, expect, it } from 'vitest'
import type { LookupAddress } from 'node:dns'
import { newWebhookSecret, signatureHeader, verifySignature } from '../../../src/webhooks/signature.js'
import { checkUrl, guardedLookup, refusedAddress } from '../../../src/webhooks/ssrf.js'
import { backoffMs } from '../../../src/webhooks/store.js'
import { errorText } from '../../../src/webhooks/sender.js'

describe('webhook signatures', () => {
  const secret = newWebhookSecret()
  const body = '{"id":42,"type":"arrived","createdAt":"2026-03-01T09:12:40.000Z","data":{}}'

  it('are t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(signatureHeader(secret, body, 1_700_000_000)).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/)
  })

  it('verify with the secret, and not with another secret, another body or too old a timestamp', () => {
    const now = 1_700_000_000
    const header = signatureHeader(secret, body, now)
    expect(verifySignature(secret, header, body, 300, now + 10)).toBe(true)
    expect(verifySignature(newWebhookSecret(), header, body, 300, now)).toBe(false)
    expect(verifySignature(secret, header, body.replace('42', '43'), 300, now)).toBe(false)
    expect(verifySignature(secret, header, body, 300, now + 301)).toBe(false)
    expect(verifySignature(secret, 'v1=abc', body, 300, now)).toBe(false)
    // a header with several v1 signatures (e.g. during a rotation) passes when one matches
    expect(verifySignature(secret, `${header},v1=${'0'.repeat(64)}`, body, 300, now)).toBe(true)
  })
})

describe('addresses webhooks may not call', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'], ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['fd12::1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1%eth0', 'link-local'], ['fd00:ec2::254', 'private'], ['168.63.129.16', 'metadata'],
    ['100.64.0.1', 'shared (CGNAT)'], ['100.100.100.200', 'shared (CGNAT)'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['0.0.0.0', 'unspecified'], ['::', 'unspecified'], ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:a00:1', 'private'], ['64:ff9b::a9fe:a9fe', 'link-local'], ['2002:7f00:1::', 'loopback'],
  ])('%s is refused (%s)', (address, why) => {
    expect(refusedAddress(address)).toBe(why)
  })

  it.each(['8.8.8.8', '93.184.215.14', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('%s is allowed', (address) => {
    expect(refusedAddress(address)).toBeNull()
  })
})

describe('webhook URLs', () => {
  const strict = { allowPrivate: false, allowHttp: false }
  const refused = (url: string, policy = strict) => {
    try { checkUrl(url, policy); return null } catch (err) { return (err as { code: string }).code }
  }

  it.each([
    'https://127.0.0.1/hook', 'https://10.0.0.5/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/', 'https://0x7f.1/', 'https://2130706433/', 'https://localhost/hook', 'https://api.localhost/',
    'http://93.184.215.14/hook', 'ftp://93.184.215.14/', 'file:///etc/passwd', 'https://user:pw@93.184.215.14/', 'https://93.184.215.14/#x', 'not a url',
  ])('%s is refused with WEBHOOK_URL_REFUSED', (url) => {
    expect(refused(url)).toBe('WEBHOOK_URL_REFUSED')
  })

  it('takes public https URLs; http only with WEBHOOK_ALLOW_HTTP, private ones only with WEBHOOK_ALLOW_PRIVATE', () => {
    expect(refused('https://93.184.215.14:8443/hooks/retrack?tenant=acme')).toBeNull()
    expect(refused('https://hooks.example.com/x')).toBeNull() // names are checked when resolved
    expect(refused('http://93.184.215.14/hook', { allowPrivate: false, allowHttp: true })).toBeNull()
    expect(refused('https://127.0.0.1/hook', { allowPrivate: true, allowHttp: false })).toBeNull()
    expect(refused('http://127.0.0.1/hook', { allowPrivate: true, allowHttp: false })).toBe('WEBHOOK_URL_REFUSED')
  })

  it('a name is resolved and refused at connection time when any address it has is refused', async () => {
    const lookup = (allowPrivate: boolean, all: boolean) => new Promise<{ err: NodeJS.ErrnoException | null, address: string | LookupAddress[] }>((resolve) => {
      guardedLookup({ allowPrivate })('localhost', { all }, (err, address) => resolve({ err, address }))
    })
    const refusedLookup = await lookup(false, false)
    expect(refusedLookup.err?.code).toBe('WEBHOOK_URL_REFUSED')
    // the category, never the address: DNS answers from inside the network are not shown to the tenant
    expect(refusedLookup.err?.message).toMatch(/^localhost resolves to a non-public address \(loopback\)/)
    expect(refusedLookup.err?.message).not.toMatch(/127\.0\.0\.1|::1/)
    expect((await lookup(true, false)).address).toMatch(/^(127\.0\.0\.1|::1)$/)
    expect((await lookup(true, true)).address).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) })]))
  })
})

describe('retries', () => {
  it('back off exponentially from the minimum to the cap, with up to a quarter less at random', () => {
    const at = (attempts: number, r: number) => backoffMs(attempts, 10_000, 3_600_000, () => r)
    expect([1, 2, 3, 4].map((n) => at(n, 0))).toEqual([10_000, 20_000, 40_000, 80_000])
    expect(at(1, 1)).toBe(7_500)
    expect(at(9, 0)).toBe(2_560_000)
    expect(at(10, 0)).toBe(3_600_000)
    expect(at(500, 0.5)).toBe(3_150_000)
  })

  it('keep one printable line of an error answer', () => {
    expect(errorText('boom\n\u0000<html>\r\n  oops')).toBe('boom <html> oops')
    expect(errorText('x'.repeat(1000))).toHaveLength(300)
  })
})
