// Users of a tenant and their roles (admin only). Password hashes never leave the database: the
// response schema has no field for them. A platform administrator's account opens every tenant, so
// only a platform administrator may change or delete one: a tenant admin could otherwise set its
// password and sign in as it, or demote it and promote it back without its platform rights.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, badRequest, conflict, forbidden, notFound } from '../../../errors.js'
import { hashPassword } from '../../../security/passwords.js'
import { Email, IdParams, NewPassword, Nullable, Page, PageQuery, PersonName, Timestamp, Uuid, errors } from '../../schemas/common.js'
import type { TenantDb } from '../../../db/tenant-scope.js'
import type { ApiContext } from '../../context.js'
import { isPlatformAdmin } from '../../plugins/auth.js'
import type { Claims } from '../../../security/tokens.js'

const Role = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')])

export const User = Type.Object({
  id: Uuid, email: Type.String(), name: Type.String(), role: Role, platformAdmin: Type.Boolean(), disabled: Type.Boolean(),
  createdAt: Timestamp, updatedAt: Timestamp, lastLoginAt: Nullable(Timestamp),
})
const CreateUser = Type.Object({
  email: Email,
  password: NewPassword,
  name: Type.Optional(PersonName),
  role: Role,
}, { additionalProperties: false })
const UpdateUser = Type.Object({
  password: Type.Optional(NewPassword),
  name: Type.Optional(PersonName),
  role: Type.Optional(Role),
  disabled: Type.Optional(Type.Boolean()),
  platformAdmin: Type.Optional(Type.Boolean({ description: 'platform rights (creating tenants); only a platform administrator may change them, and they need the admin role' })),
}, { additionalProperties: false, minProperties: 1 })

type Tx = Parameters<Parameters<TenantDb['$transaction']>[0]>[0]

/**
 * The user `id` as it is now (read in the transaction that changes it, so a grant of platform rights
 * cannot slip in between the check and the change), if the caller may change it: a user with the
 * platform flag, whatever their role (a demoted one promoted back would have the rights again), is
 * changed by platform administrators only.
 */
async function changeable(tx: Tx, caller: Claims, id: string, what: string) {
  const user = await tx.user.findUnique({ where: { id } })
  if (!user) throw notFound('user')
  if (user.platformAdmin && !isPlatformAdmin(caller)) throw forbidden(`only a platform administrator can ${what} a platform administrator`)
  return user
}

async function assertAdminRemains(db: Tx, leavingId: string) {
  const admins = await db.user.count({ where: { role: 'admin', disabled: false, id: { not: leavingId } } })
  if (admins === 0) throw conflict('a tenant must keep at least one enabled admin')
}

/** PostgreSQL's serialization_failure, however the driver adapter wraps it */
function isSerializationFailure(err: unknown): boolean {
  const e = err as { code?: unknown, cause?: { originalCode?: unknown, kind?: unknown } } | null
  return e?.code === 'P2034' || e?.cause?.originalCode === '40001' || e?.cause?.kind === 'TransactionWriteConflict'
}

/**
 * Runs `change`, then checks that an enabled admin other than `leavingId` remains, in one
 * serializable transaction (a refusal rolls the change back): two admins demoting each other at the
 * same moment each saw the other as the admin that remains (write skew) and left the tenant with
 * none. Serializable makes one of them fail and retry, and the retry sees that no admin would
 * remain. The change runs first so that its own refusals (403, 404) come before that rule's 409.
 */
async function keepingAnAdmin<T>(db: TenantDb, leavingId: string | null, change: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        const result = await change(tx)
        if (leavingId) await assertAdminRemains(tx, leavingId)
        return result
      }, { isolationLevel: 'Serializable' })
    } catch (err) {
      if (attempt < 5 && isSerializationFailure(err)) continue
      throw err
    }
  }
}

const users: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  /** this node forgets the user's cached row at once, the others when the change reaches them */
  const changed = (tenantId: string, id: string) => {
    fastify.userStatus.forget(tenantId, id)
    ctx.changes?.changed({ kind: 'user', tenantId, id })
  }
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const tags = ['users']

  app.get('/', {
    schema: { tags, summary: 'List users', querystring: Type.Object({ ...PageQuery.properties, role: Type.Optional(Role) }), response: { 200: Page(User), ...errors(400, 401, 403) } },
    config: { access: 'admin' },
  }, async (request) => {
    const { limit, offset, role } = request.query
    const where = role ? { role } : {}
    const [items, total] = await Promise.all([
      request.db.user.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: limit, skip: offset }),
      request.db.user.count({ where }),
    ])
    return { items, total, limit, offset }
  })

  app.get('/:id', {
    schema: { tags, summary: 'Get a user', params: IdParams, response: { 200: User, ...errors(400, 401, 403, 404) } },
    config: { access: 'admin' },
  }, async (request) => {
    const user = await request.db.user.findUnique({ where: { id: request.params.id } })
    if (!user) throw notFound('user')
    return user
  })

  app.post('/', {
    schema: { tags, summary: 'Create a user', body: CreateUser, response: { 201: User, ...errors(400, 401, 403, 409) } },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const { password, ...rest } = request.body
    const email = rest.email.toLowerCase()
    // the unique index still decides under a race (P2002 → 409); this only gives the clearer message
    if (await request.db.user.findFirst({ where: { email }, select: { id: true } })) {
      throw new AppError(409, 'ALREADY_EXISTS', `a user with email ${email} already exists in this tenant`)
    }
    const user = await request.db.user.create({ data: { ...rest, email, passwordHash: await hashPassword(password) } as never })
    return reply.status(201).send(user)
  })

  app.patch('/:id', {
    schema: { tags, summary: 'Change a user (role, name, password, disabled)', params: IdParams, body: UpdateUser, response: { 200: User, ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'admin' },
  }, async (request) => {
    const { id } = request.params
    const { password, ...rest } = request.body
    if (rest.platformAdmin !== undefined && !isPlatformAdmin(request.principal)) throw forbidden('only a platform administrator can grant or remove platform rights')
    const leaves = (rest.role && rest.role !== 'admin') || rest.disabled === true
    // a new password or a disable ends every session: the refresh tokens are revoked, and the access
    // tokens issued before (which carry the old session version) stay refused even after a re-enable
    const endSessions = !!password || rest.disabled === true
    const passwordHash = password ? await hashPassword(password) : undefined
    const user = await keepingAnAdmin(request.db, leaves ? id : null, async (tx) => {
      const existing = await changeable(tx, request.principal, id, 'change')
      if (rest.platformAdmin === true && (rest.role ?? existing.role) !== 'admin') throw badRequest('platform rights need the admin role')
      return tx.user.update({
        where: { id },
        // demoted, the user keeps no platform rights (they need the admin role)
        data: { ...rest, ...(leaves && rest.role ? { platformAdmin: false } : {}), ...(passwordHash ? { passwordHash } : {}), ...(endSessions ? { sessionVersion: { increment: 1 } } : {}) },
      })
    })
    if (endSessions) await request.db.refreshToken.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: new Date() } })
    // their access tokens are checked against the changed row from the next request on, on every
    // node (and their MQTT integrations closed). A role change needs no refresh token revocation:
    // refresh reads the role from the row, so the user can carry on with the new role.
    changed(request.principal.tid, id)
    return user
  })

  app.delete('/:id', {
    schema: { tags, summary: 'Delete a user', params: IdParams, response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) } },
    config: { access: 'admin' },
  }, async (request, reply) => {
    const { id } = request.params
    if (id === request.userPrincipal.sub) throw conflict('you cannot delete yourself')
    await keepingAnAdmin(request.db, id, async (tx) => {
      await changeable(tx, request.principal, id, 'delete')
      await tx.user.delete({ where: { id } })
    })
    changed(request.principal.tid, id)
    return reply.status(204).send(null)
  })
}
export default users
