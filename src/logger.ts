// Structured logging. Secrets never reach a log line: the redact list covers every field that can
// carry one (passwords, device secrets, tokens, authorization headers), and the request serializer
// every URL (a token in a query string: `?access_token=` on any route).
import { pino, type Logger, type LoggerOptions } from 'pino'
import type { Config } from './config.js'

export type { Logger }

export const redactPaths = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'accessToken', 'refreshToken',
  '*.accessToken', '*.refreshToken', 'req.headers.authorization', 'req.headers.cookie', 'headers.authorization',
  'JWT_SECRET', 'BOOTSTRAP_PASSWORD', 'EXTERNAL_BROKER_PASSWORD', 'DATABASE_URL', 'REDIS_URL',
  // Node's ERR_INVALID_URL carries the whole URL it could not parse, credentials included
  'err.input', '*.err.input',
]

const CENSOR = '[redacted]'

/**
 * Query parameters whose values are secrets whatever the route: `access_token` (which the stream
 * takes from browsers' EventSource, and clients send elsewhere too), `token`, `refresh_token`,
 * `secret`, `password`, `api_key` and their kin.
 */
const SECRET_PARAM = /token|secret|passw(or)?d|api[-_]?key/i

function paramName(raw: string): string {
  try { return decodeURIComponent(raw.replace(/\+/g, ' ')) } catch { return raw }
}

/** `url` (path and query) with the value of every secret query parameter replaced; the rest as sent. */
export function redactUrlSecrets(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const query = url.slice(q + 1).split('&').map((part) => {
    const eq = part.indexOf('=')
    return eq > 0 && SECRET_PARAM.test(paramName(part.slice(0, eq))) ? `${part.slice(0, eq)}=${CENSOR}` : part
  })
  return `${url.slice(0, q)}?${query.join('&')}`
}

/** What a log line says of a request (Fastify's `incoming request`): Fastify's own fields, its URL redacted. */
interface LoggedRequest {
  method?: string
  url?: string
  host?: string
  ip?: string
  headers?: Record<string, string | string[] | undefined>
  socket?: { remotePort?: number | undefined } | null
}

function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrlSecrets(req.url),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>): LoggerOptions {
  const pretty = config.LOG_PRETTY === 'true' ||
    (config.LOG_PRETTY === 'auto' && config.NODE_ENV !== 'production' && process.stdout.isTTY === true)
  return {
    level: config.LOG_LEVEL,
    redact: { paths: redactPaths, censor: CENSOR },
    // Fastify adds its own serializers only where the logger has none: this one replaces its `req`
    serializers: { req: serializeRequest },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  }
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>): Logger {
  return pino(loggerOptions(config))
}
