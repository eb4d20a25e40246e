// A Prisma client that can only see one tenant. Every model operation gets `tenant_id = <tenant>`
// added to its filter and to the rows it creates or changes, so a route cannot forget the scope;
// composite foreign keys (tenant_id, id) in the schema make cross-tenant references impossible as
// well. What the scope cannot vouch for is refused at run time, not only hidden from the types:
// raw SQL, and nested writes (a nested `connect`, `set` or `connectOrCreate` names rows by id
// outside any filter, and a nested relation write can move a row into another tenant).
import type { Prisma } from './database.js'

const filtered = new Set([
  'findUnique', 'findUniqueOrThrow', 'findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate',
  'groupBy', 'update', 'updateMany', 'updateManyAndReturn', 'delete', 'deleteMany',
])

type Args = Record<string, unknown> & { where?: object, data?: unknown, create?: object, update?: object }
type DataModel = { models: Record<string, { fields: Array<{ name: string, kind: string }> }> }

export class TenantScopeError extends Error {
  readonly code = 'TENANT_SCOPE'
}

const relationCache = new WeakMap<Prisma, Map<string, Set<string>>>()

/** The relation fields of every model, from the client's own data model (once per client: forTenant runs per request). */
function relationFields(prisma: Prisma): Map<string, Set<string>> {
  let found = relationCache.get(prisma)
  if (found) return found
  const model = (prisma as unknown as { _runtimeDataModel?: DataModel })._runtimeDataModel
  if (!model) throw new TenantScopeError('the Prisma client exposes no data model: cannot tell relation fields apart')
  found = new Map(Object.entries(model.models).map(([name, m]) => [name, new Set(m.fields.filter((f) => f.kind === 'object').map((f) => f.name))]))
  relationCache.set(prisma, found)
  return found
}

export function forTenant(prisma: Prisma, tenantId: string): TenantDb {
  const relations = relationFields(prisma)

  /** `row` with tenantId forced, after refusing relation fields (nested writes) in it. */
  const own = (model: string, operation: string, row: unknown): object => {
    const data = (row ?? {}) as Record<string, unknown>
    for (const field of relations.get(model) ?? []) {
      if (data[field] !== undefined) throw new TenantScopeError(`${model}.${operation}: nested write through "${field}" is not tenant-scoped; write the related rows with their own calls`)
    }
    // forcing it also keeps an update from moving the row into another tenant
    return { ...data, tenantId }
  }

  const scope = (model: string, operation: string, args: Args): Args => {
    switch (operation) {
      case 'create':
        return { ...args, data: own(model, operation, args.data) }
      case 'createMany':
      case 'createManyAndReturn': {
        const rows: unknown[] = Array.isArray(args.data) ? args.data : [args.data]
        return { ...args, data: rows.map((r) => own(model, operation, r)) }
      }
      case 'update':
      case 'updateMany':
      case 'updateManyAndReturn':
        return { ...args, where: { ...args.where, tenantId }, data: own(model, operation, args.data) }
      case 'upsert':
        return { ...args, where: { ...args.where, tenantId }, create: own(model, operation, args.create), update: own(model, operation, args.update) }
      default:
        if (filtered.has(operation)) return { ...args, where: { ...args.where, tenantId } }
        // unknown operations could bypass the scope: refuse rather than guess
        throw new TenantScopeError(`operation ${operation} is not tenant-scoped`)
    }
  }

  // The extension only rewrites arguments, so the scoped client has the base client's types.
  return prisma.$extends({
    name: 'tenant-scope',
    query: {
      // top level, not $allModels: raw SQL ($queryRaw, $executeRawUnsafe, …, also inside
      // $transaction) arrives here with no model and is refused, whatever the types say
      async $allOperations({ model, operation, args, query }) {
        if (!model) throw new TenantScopeError(`${operation} would bypass the tenant scope`)
        if (model === 'Tenant') throw new TenantScopeError('tenants are managed by the platform, not inside a tenant')
        return query(scope(model, operation, (args ?? {}) as Args)) as Promise<unknown>
      },
    },
  }) as unknown as TenantDb
}

/** The base client's surface minus raw SQL, which would bypass the scope. */
export type TenantDb = Omit<Prisma, '$queryRaw' | '$queryRawUnsafe' | '$executeRaw' | '$executeRawUnsafe' | '$extends'>
