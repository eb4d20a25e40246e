// One error shape for every failure: { statusCode, code, error, message, details? }. Known failures
// (validation, auth, Prisma constraint errors) become 4xx with a message; anything else is a 500
// whose details stay in the log, never in the answer.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { AppError } from '../../errors.js'

interface PrismaLikeError { code: string, meta?: Record<string, unknown>, message: string }

export const isPrismaError = (e: unknown): e is PrismaLikeError =>
  typeof e === 'object' && e !== null && 'code' in e && typeof (e).code === 'string' &&
  /^P\d{4}$/.test((e as { code: string }).code)

function fromPrisma(e: PrismaLikeError): AppError {
  switch (e.code) {
    case 'P2002': {
      const target = (e.meta?.['target'] ?? (e.meta?.['driverAdapterError'] as { cause?: { constraint?: { fields?: string[] } } } | undefined)?.cause?.constraint?.fields) as string[] | string | undefined
      const fields = (Array.isArray(target) ? target : target ? [target] : []).filter((f) => f !== 'tenantId' && f !== 'tenant_id' && f !== '"tenant_id"')
      return new AppError(409, 'ALREADY_EXISTS', `already exists${fields.length ? `: ${fields.join(', ')} must be unique` : ''}`)
    }
    case 'P2025':
      return new AppError(404, 'NOT_FOUND', 'not found')
    case 'P2003':
      return new AppError(409, 'REFERENCE_CONFLICT', 'this change would break a reference between records (a referenced record is missing or still in use)')
    default:
      return new AppError(500, 'DATABASE', 'database error')
  }
}

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error
  if ('validation' in error && error.validation) {
    const where = 'validationContext' in error && typeof error.validationContext === 'string' ? error.validationContext : 'request'
    const details = error.validation.map((v) => {
      // ajv's own words for an unknown field do not name it; say which one it is
      const unknown = v.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: string }).additionalProperty : undefined
      return { path: v.instancePath, message: unknown ? `has an unknown property '${unknown}'` : v.message }
    })
    const first = details[0]
    const message = first ? `${where}${first.path} ${first.message ?? 'is invalid'}` : error.message
    return new AppError(400, 'VALIDATION', message, details)
  }
  if (isPrismaError(error)) return fromPrisma(error)
  if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
    const code = 'code' in error && typeof error.code === 'string' ? error.code.replace(/^FST_/, '') : 'BAD_REQUEST'
    return new AppError(error.statusCode, code, error.message)
  }
  return new AppError(500, 'INTERNAL', 'internal error')
}

function send(error: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) {
  const appError = toAppError(error)
  if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed')
  else request.log.info({ code: appError.code, reason: appError.message }, 'request refused')
  void reply.status(appError.statusCode).send({
    statusCode: appError.statusCode,
    code: appError.code,
    error: STATUS_CODES[appError.statusCode] ?? 'Error',
    message: appError.message,
    ...(appError.details !== undefined ? { details: appError.details } : {}),
  })
}

export default fp(async function errorsPlugin(app) {
  app.setErrorHandler(send)
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ statusCode: 404, code: 'ROUTE_NOT_FOUND', error: 'Not Found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
}, { name: 'errors' })
