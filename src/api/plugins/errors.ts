// One error shape for every failure: { statusCode, code, error, message, details? }. Known failures
// (validation, auth, Prisma constraint errors) become 4xx with a message; anything else is a 500
// whose details stay in the log, never in the answer.
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { AppError } from '../../errors.js'
import { Prisma } from '../../generated/prisma/client.js'

interface PrismaLikeError { code: string, meta?: Record<string, unknown>, message: string }

export const isPrismaError = (e: unknown): e is PrismaLikeError =>
  typeof e === 'object' && e !== null && 'code' in e && typeof (e).code === 'string' &&
  /^P\d{4}$/.test((e as { code: string }).code)

interface UniqueViolation { constraint?: { fields?: string[], index?: string }, table?: string }

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** A model's fields by column; the schema maps every camelCase field to its snake_case column. */
function columnsOf(model: string | undefined): Map<string, string> {
  const fields = model ? (Prisma as unknown as Record<string, Record<string, string> | undefined>)[`${model}ScalarFieldEnum`] : undefined
  return new Map(Object.values(fields ?? {}).map((f) => [snakeCase(f), f]))
}

/** `tenant_id_dedupe_key` as the fields whose columns make it up, or null when it is not made of them. */
function splitColumns(joined: string, columns: Map<string, string>): string[] | null {
  if (joined === '') return []
  for (const [column, field] of columns) {
    if (joined !== column && !joined.startsWith(`${column}_`)) continue
    const rest = splitColumns(joined.slice(column.length + 1), columns)
    if (rest) return [field, ...rest]
  }
  return null
}

/**
 * The fields a unique violation is about. Prisma's own engine gives them (meta.target); adapter-pg
 * gives the columns only when PostgreSQL names no constraint, else just the constraint's name,
 * `{table}_{column}_{column}_key` as Prisma names unique indexes, read back with the model's columns.
 */
function uniqueFields(meta: Record<string, unknown> | undefined): string[] {
  const target = meta?.['target'] as string[] | string | undefined
  if (target) return Array.isArray(target) ? target : [target]
  const cause = (meta?.['driverAdapterError'] as { cause?: UniqueViolation } | undefined)?.cause
  const columns = columnsOf(meta?.['modelName'] as string | undefined)
  const fields = cause?.constraint?.fields
  if (fields) return fields.map((f) => f.replace(/^"|"$/g, '')).map((c) => columns.get(c) ?? c)
  const index = cause?.constraint?.index
  const prefix = `${cause?.table ?? ''}_`
  if (!index?.startsWith(prefix) || !index.endsWith('_key')) return []
  return splitColumns(index.slice(prefix.length, -'_key'.length), columns) ?? []
}

/** "a shipment with this reference already exists". The tenant is left out: it is the caller's own. */
function alreadyExists(meta: Record<string, unknown> | undefined): AppError {
  const fields = uniqueFields(meta).filter((f) => f !== 'tenantId' && f !== 'tenant_id')
  const model = meta?.['modelName']
  const noun = typeof model === 'string' ? model.replace(/(?<!^)[A-Z]/g, (c) => ` ${c}`).toLowerCase() : 'record'
  return new AppError(409, 'ALREADY_EXISTS', fields.length ? `a ${noun} with this ${fields.join(' and ')} already exists` : 'already exists')
}

function fromPrisma(e: PrismaLikeError): AppError {
  switch (e.code) {
    case 'P2002':
      return alreadyExists(e.meta)
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
