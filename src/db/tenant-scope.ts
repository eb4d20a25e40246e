// A Prisma client that can only see one tenant. Every model operation gets `tenant_id = <tenant>`
// added to its filter and to the rows it creates, so a route cannot forget the scope; composite
// foreign keys (tenant_id, id) in the schema make cross-tenant references impossible as well.
import type { Prisma } from './database.js'

const filtered = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate',
  'groupBy', 'update', 'updateMany', 'updateManyAndReturn', 'delete', 'deleteMany',
])

type Args = Record<string, unknown> & { where?: object, data?: unknown, create?: object }

export class TenantScopeError extends Error {
  readonly code = 'TENANT_SCOPE'
}

function scope(operation: string, args: Args, tenantId: string): Args {
  if (filtered.has(operation)) return { ...args, where: { ...args.where, tenantId } }
  switch (operation) {
    case 'create':
      return { ...args, data: { ...(args.data as object), tenantId } }
    case 'createMany':
    case 'createManyAndReturn': {
      const rows = Array.isArray(args.data) ? args.data : [args.data]
      return { ...args, data: rows.map((r: object) => ({ ...r, tenantId })) }
    }
    case 'upsert':
      return { ...args, where: { ...args.where, tenantId }, create: { ...args.create, tenantId } }
    default:
      // raw or unknown operations would bypass the scope: refuse rather than guess
      throw new TenantScopeError(`operation ${operation} is not tenant-scoped`)
  }
}

/** The base client's surface minus raw SQL, which would bypass the scope. */
export type TenantDb = Omit<Prisma, '$queryRaw' | '$queryRawUnsafe' | '$executeRaw' | '$executeRawUnsafe' | '$extends'>

export function forTenant(prisma: Prisma, tenantId: string): TenantDb {
  // The extension only rewrites arguments, so the scoped client has the base client's types.
  return prisma.$extends({
    name: 'tenant-scope',
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          if (model === 'Tenant') throw new TenantScopeError('tenants are managed by the platform, not inside a tenant')
          return query(scope(operation, args, tenantId))
        },
      },
    },
  }) as unknown as TenantDb
}
