// Tenants are created by a platform administrator (the first one comes from `retrack bootstrap`
// or the BOOTSTRAP_* settings). Each new tenant gets its first admin in the same transaction.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { TENANT_SLUG_PATTERN, createTenantWithAdmin } from '../../../db/accounts.js'
import { NAME_MAX_LENGTH } from '../../../security/account-rules.js'
import { Email, NewPassword, Page, PageQuery, PersonName, Timestamp, Uuid, errors } from '../../schemas/common.js'

const Tenant = Type.Object({ id: Uuid, slug: Type.String(), name: Type.String(), createdAt: Timestamp })
const CreateTenant = Type.Object({
  slug: Type.String({ pattern: TENANT_SLUG_PATTERN }),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_MAX_LENGTH })),
  admin: Type.Object({
    email: Email,
    password: NewPassword,
    name: Type.Optional(PersonName),
  }, { additionalProperties: false }),
}, { additionalProperties: false })
const Created = Type.Object({ tenant: Tenant, admin: Type.Object({ id: Uuid, email: Type.String() }) })

const routes: FastifyPluginAsync<{ prisma: Parameters<typeof createTenantWithAdmin>[0] }> = async (fastify, { prisma }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['tenants (platform)']

  app.get('/', {
    schema: { tags, summary: 'List tenants (platform administrators)', querystring: PageQuery, response: { 200: Page(Tenant), ...errors(400, 401, 403) } },
    config: { access: 'platform' },
  }, async (request) => {
    const { limit, offset } = request.query
    const [items, total] = await Promise.all([
      prisma.tenant.findMany({ orderBy: { createdAt: 'asc' }, take: limit, skip: offset }),
      prisma.tenant.count(),
    ])
    return { items, total, limit, offset }
  })

  app.post('/', {
    schema: { tags, summary: 'Create a tenant with its first admin (platform administrators)', body: CreateTenant, response: { 201: Created, ...errors(400, 401, 403, 409) } },
    config: { access: 'platform' },
  }, async (request, reply) => {
    const { tenant, admin } = await createTenantWithAdmin(prisma, request.body)
    return reply.status(201).send({ tenant, admin: { id: admin.id, email: admin.email } })
  })
}
export default routes
