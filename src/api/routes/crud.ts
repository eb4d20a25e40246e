// The five routes every plain tenant resource has (list, get, create, update, delete), declared
// once. Each resource supplies its schemas, its Prisma delegate on the caller's tenant-scoped client
// and the ids it references; references are checked inside the tenant, so naming another tenant's
// record is a 404 exactly like naming one that does not exist.
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type TObject, type TSchema } from 'typebox'
import type { TenantDb } from '../../db/tenant-scope.js'
import { AppError, notFound } from '../../errors.js'
import { isPrismaError } from '../plugins/errors.js'
import { IdParams, Page, PageQuery, errors } from '../schemas/common.js'

type Row = Record<string, unknown>
/** The slice of a Prisma model delegate the generic routes use. */
export interface Delegate {
  findMany(args: object): Promise<Row[]>
  count(args: object): Promise<number>
  findUnique(args: object): Promise<Row | null>
  create(args: object): Promise<Row>
  update(args: object): Promise<Row>
  delete(args: object): Promise<Row>
}

export interface CrudResource {
  /** singular, for messages: "carrier" */
  noun: string
  tag: string
  item: TObject
  createBody: TObject
  updateBody: TObject
  /** extra list filters (query string), turned into a Prisma where */
  filters?: TObject
  where?: (query: Row) => object
  delegate: (db: TenantDb) => Delegate
  /** body fields holding ids of other tenant records, with the delegate that owns them */
  references?: Record<string, { noun: string, delegate: (db: TenantDb) => Delegate }>
  /** the records that may still name one of these, for the 409 a delete then answers: "drivers, vehicles or shipments" */
  usedBy?: string
}

/** Runs a delete; a foreign key still pointing at the row becomes a 409 that says what holds it. */
export async function deleteUnlessUsed<T>(noun: string, id: string, usedBy: string | undefined, remove: () => Promise<T>): Promise<T> {
  try {
    return await remove()
  } catch (e) {
    if (!isPrismaError(e) || e.code !== 'P2003') throw e
    throw new AppError(409, 'REFERENCE_CONFLICT',
      `${noun} ${id} cannot be deleted: ${usedBy ?? 'other records'} still refer to it; unassign it from them first ` +
      `(a delivered shipment keeps its ${noun} for good, a cancelled one until an admin deletes it)`)
  }
}

export async function assertReferences(db: TenantDb, body: Row, references: CrudResource['references'] = {}) {
  for (const [field, ref] of Object.entries(references)) {
    const id = body[field]
    if (typeof id !== 'string') continue
    const found = await ref.delegate(db).findUnique({ where: { id }, select: { id: true } })
    if (!found) throw notFound(`${ref.noun} ${id}`)
  }
}

export function crudRoutes(fastify: FastifyInstance, r: CrudResource) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const listQuery = Type.Object({ ...PageQuery.properties, ...(r.filters?.properties ?? {}) })
  const tags = [r.tag]

  app.get('/', {
    schema: { tags, summary: `List ${r.tag}`, querystring: listQuery, response: { 200: Page(r.item), ...errors(400, 401, 403) } },
    config: { access: 'read' },
  }, async (request) => {
    const { limit, offset, ...filters } = request.query as Row & { limit: number, offset: number }
    const where = r.where ? r.where(filters) : {}
    const d = r.delegate(request.db)
    const [items, total] = await Promise.all([
      d.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }], take: limit, skip: offset }),
      d.count({ where }),
    ])
    return { items, total, limit, offset }
  })

  app.get('/:id', {
    schema: { tags, summary: `Get a ${r.noun}`, params: IdParams, response: { 200: r.item, ...errors(400, 401, 403, 404) } },
    config: { access: 'read' },
  }, async (request) => {
    const row = await r.delegate(request.db).findUnique({ where: { id: request.params.id } })
    if (!row) throw notFound(r.noun)
    return row
  })

  app.post('/', {
    schema: { tags, summary: `Create a ${r.noun}`, body: r.createBody, response: { 201: r.item, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'write' },
  }, async (request, reply) => {
    const body = request.body
    await assertReferences(request.db, body, r.references)
    return reply.status(201).send(await r.delegate(request.db).create({ data: body }))
  })

  app.patch('/:id', {
    schema: { tags, summary: `Change a ${r.noun}`, params: IdParams, body: r.updateBody, response: { 200: r.item, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'write' },
  }, async (request) => {
    const body = request.body
    await assertReferences(request.db, body, r.references)
    const d = r.delegate(request.db)
    if (!await d.findUnique({ where: { id: request.params.id }, select: { id: true } })) throw notFound(r.noun)
    return d.update({ where: { id: request.params.id }, data: body })
  })

  app.delete('/:id', {
    schema: { tags, summary: `Delete a ${r.noun}`, params: IdParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'write' },
  }, async (request, reply) => {
    const d = r.delegate(request.db)
    if (!await d.findUnique({ where: { id: request.params.id }, select: { id: true } })) throw notFound(r.noun)
    await deleteUnlessUsed(r.noun, request.params.id, r.usedBy, () => d.delete({ where: { id: request.params.id } }))
    return reply.status(204).send(null)
  })
}

/** Partial of a create body for PATCH: every field optional, at least one present. */
export function updateOf(create: TObject): TObject {
  const props: Record<string, TSchema> = {}
  for (const [k, v] of Object.entries(create.properties)) props[k] = Type.Optional(v)
  return Type.Object(props, { minProperties: 1, additionalProperties: false })
}
