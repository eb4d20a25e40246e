// Webhook secrets and signatures, as Stripe signs its webhooks: the header
// `x-retrack-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
// The timestamp is signed with the body, so a captured request cannot be replayed later than the
// receiver's tolerance; the receiver compares in constant time (docs/webhooks.md has the recipe).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-retrack-signature'

/** 256 random bits, recognisable in a config file or a leak scanner by its prefix. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`
}

function hmac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
}

/** The header value for `body` signed at `t` (unix seconds). */
export function signatureHeader(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${hmac(secret, t, body)}`
}

/**
 * What a receiver does: true when one v1 signature of `header` is `body` signed with `secret` and
 * its timestamp is within `toleranceS` of `now` (unix seconds).
 */
export function verifySignature(secret: string, header: string, body: string, toleranceS = 300, now = Math.floor(Date.now() / 1000)): boolean {
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined])
  const t = Number(parts.find(([k]) => k === 't')?.[1])
  if (!Number.isSafeInteger(t) || Math.abs(now - t) > toleranceS) return false
  const expected = Buffer.from(hmac(secret, t, body), 'hex')
  return parts.some(([k, v]) => {
    if (k !== 'v1' || !v || !/^[0-9a-f]{64}$/.test(v)) return false
    return timingSafeEqual(Buffer.from(v, 'hex'), expected)
  })
}
