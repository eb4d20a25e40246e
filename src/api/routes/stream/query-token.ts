// Browsers' EventSource cannot send headers, so the live stream also takes `?access_token=<jwt>`.
// The token is moved into the Authorization header in Fastify's rewriteUrl step, which runs before
// routing, request logging and authentication: the normal bearer check then verifies it (same
// secret, same role rules), and no log line ever carries it in a URL.
import type { IncomingMessage } from 'node:http'

/**
 * Only these paths accept a token in the query; everywhere else it stays an ordinary parameter (never
 * a credential), which the request log redacts like any secret parameter (src/logger.ts).
 */
export const QUERY_TOKEN_PATHS: ReadonlySet<string> = new Set(['/api/v1/stream'])

export function moveQueryToken(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  if (q < 0 || !url.includes('access_token=')) return url
  const path = url.slice(0, q)
  if (!QUERY_TOKEN_PATHS.has(path)) return url
  const params = new URLSearchParams(url.slice(q + 1))
  const token = params.get('access_token')
  params.delete('access_token')
  // a header, when present, wins: it is the ordinary way and cannot be a leftover in a shared link
  if (token && req.headers.authorization === undefined) req.headers.authorization = `Bearer ${token}`
  const rest = params.toString()
  return rest ? `${path}?${rest}` : path
}
