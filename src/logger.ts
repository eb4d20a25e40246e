// Structured logging. Secrets never reach a log line: the redact list covers every field that can
// carry one (passwords, device secrets, tokens, authorization headers).
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

export function loggerOptions(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>): LoggerOptions {
  const pretty = config.LOG_PRETTY === 'true' ||
    (config.LOG_PRETTY === 'auto' && config.NODE_ENV !== 'production' && process.stdout.isTTY === true)
  return {
    level: config.LOG_LEVEL,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {}),
  }
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY' | 'NODE_ENV'>): Logger {
  return pino(loggerOptions(config))
}
