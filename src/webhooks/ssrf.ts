// Where a webhook may point. A tenant chooses the URL, and ReTrack makes the request from inside its
// own network: without these rules a tenant could make it POST to its database, its Redis, a cloud
// metadata service or anything else only reachable from there (server-side request forgery).
// Checked when a webhook is created or changed, and again at every delivery on the addresses the
// name resolves to then (DNS may change, or answer differently the second time: DNS rebinding), and
// the connection goes to exactly the address that was checked.
import { BlockList, isIP } from 'node:net'
import dns, { type LookupAddress, type LookupOptions } from 'node:dns'
import { AppError } from '../errors.js'

export interface UrlPolicy {
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private and the other refused ranges are allowed (tests, a private deployment) */
  allowPrivate: boolean
  /** WEBHOOK_ALLOW_HTTP: plain http is allowed besides https */
  allowHttp: boolean
}

export const URL_MAX_LENGTH = 2048

const RANGES: Array<[string, string[]]> = [
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['shared (CGNAT)', ['100.64.0.0/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  // the well-known metadata services: 169.254.169.254 is link-local, 100.100.100.200 (Alibaba) CGNAT,
  // fd00:ec2::254 (AWS) private; Azure's wire server sits on a public-looking address
  ['metadata', ['168.63.129.16/32']],
  ['reserved', [
    '192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
    '::/96', '100::/64', '2001::/32', '2001:db8::/32', '64:ff9b:1::/48',
  ]],
]

const lists = RANGES.map(([label, cidrs]) => {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/') as [string, string]
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4')
  }
  return { label, list }
})

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, which a gateway would reach. */
function embeddedIpv4(ip: string): string | null {
  const groups = expandIpv6(ip)
  if (!groups) return null
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return v4(groups[6]!, groups[7]!)
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!)
  return null
}

function expandIpv6(ip: string): number[] | null {
  let text = ip
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const p = dotted[1]!.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, -dotted[1]!.length)}${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const a = parse(head)
  const b = tail === undefined ? [] : parse(tail)
  const groups = tail === undefined ? a : [...a, ...Array<number>(8 - a.length - b.length).fill(0), ...b]
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null
}

/** Why an address may not be called (`loopback`, `private`, …), or null when it may. IPv4-mapped IPv6 counts as its IPv4. */
export function refusedAddress(address: string): string | null {
  const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '') // brackets of a URL host, an IPv6 zone
  const family = isIP(ip)
  if (family === 0) return 'not an IP address'
  const type = family === 6 ? 'ipv6' : 'ipv4'
  for (const { label, list } of lists) if (list.check(ip, type)) return label
  const inner = family === 6 ? embeddedIpv4(ip) : null
  return inner ? refusedAddress(inner) : null
}

const refusal = (message: string) => new AppError(400, 'WEBHOOK_URL_REFUSED', message)

/**
 * The URL parsed, when its shape is acceptable: http(s) (http only with allowHttp), a host, no
 * credentials, no fragment, and, when the host is an IP address (or localhost), an allowed one.
 * Throws an AppError with code WEBHOOK_URL_REFUSED saying why.
 */
export function checkUrl(text: string, policy: UrlPolicy): URL {
  let url: URL
  try { url = new URL(text) } catch { throw refusal('url is not a valid absolute URL') }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refusal('url must be https:// (or http:// where WEBHOOK_ALLOW_HTTP is true)')
  if (url.protocol === 'http:' && !policy.allowHttp) throw refusal('url must be https:// (plain http is refused unless WEBHOOK_ALLOW_HTTP is true)')
  if (url.username || url.password) throw refusal('url must not hold credentials (user:password@): they would be shown to every reader of the webhook')
  if (url.hash) throw refusal('url must not have a #fragment')
  if (!policy.allowPrivate) {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
    if (host === 'localhost' || host.endsWith('.localhost')) throw refusal('url points at this machine (localhost)')
    if (isIP(host)) {
      const why = refusedAddress(host)
      if (why) throw refusal(`url points at a ${why} address, which webhooks may not call`)
    }
  }
  return url
}

/** How long creating or changing a webhook waits for DNS before it accepts the name unchecked (delivery checks it again). */
const CREATE_LOOKUP_MS = 2000

/**
 * At create/update: checkUrl, then the addresses the name resolves to now. A name that does not
 * resolve (yet) is accepted: every delivery resolves and checks it again before connecting.
 */
export async function checkUrlNow(text: string, policy: UrlPolicy): Promise<URL> {
  const url = checkUrl(text, policy)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (policy.allowPrivate || isIP(host)) return url
  let timer: NodeJS.Timeout | undefined
  const addresses = await Promise.race([
    dns.promises.lookup(host, { all: true, verbatim: true }).catch(() => [] as LookupAddress[]),
    new Promise<LookupAddress[]>((resolve) => { timer = setTimeout(() => resolve([]), CREATE_LOOKUP_MS) }),
  ]).finally(() => clearTimeout(timer))
  // the category of a refused address, never the address: DNS answers from inside this network are
  // not for the tenant (nor for every reader of a delivery's lastError)
  for (const a of addresses) {
    const why = refusedAddress(a.address)
    if (why) throw refusal(`url's host resolves to a non-public address (${why}), which webhooks may not call`)
  }
  return url
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for net/http that resolves the name and fails the connection (code
 * WEBHOOK_URL_REFUSED) when any address it resolves to is refused, so the socket only ever connects
 * to an address that was checked. Every address, not just the first: a name answering with a public
 * and a private address is refused.
 */
export function guardedLookup(policy: Pick<UrlPolicy, 'allowPrivate'>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, [])
      if (!policy.allowPrivate) {
        for (const a of addresses) {
          const why = refusedAddress(a.address)
          if (why) {
            const refused = Object.assign(new Error(`${hostname} resolves to a non-public address (${why}), which webhooks may not call`), { code: 'WEBHOOK_URL_REFUSED' })
            return callback(refused, [])
          }
        }
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), [])
      callback(null, first.address, first.family)
    })
  }
}
