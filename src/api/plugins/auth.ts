// Authentication and role checks. Every /api route declares `config.access`; the check runs before
// anything else, and a route that forgets to declare it fails at start-up, not in production.
//   public   no token
//   read     admin, operator, viewer
//   write    admin, operator
//   admin    admin
//   platform a platform administrator (creates tenants): the platformAdmin flag on an admin;
//            a demoted user keeps the flag but not the rights
//   device   a device token (HTTP ingestion)
// A user token must also still match its user: a disabled or deleted user, or one whose role
// changed since the token was issued, gets 401 (src/security/user-status.ts).
import fp from 'fastify-plugin'
import jwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import { forTenant, type TenantDb } from '../../db/tenant-scope.js'
import { forbidden, unauthorized } from '../../errors.js'
import type { Claims, DeviceClaims, UserClaims } from '../../security/tokens.js'
import { UserStatusCache, revokedBecause } from '../../security/user-status.js'
import type { ApiContext } from '../context.js'

export type Access = 'public' | 'read' | 'write' | 'admin' | 'platform' | 'device'

declare module 'fastify' {
  interface FastifyContextConfig { access?: Access }
  interface FastifyInstance {
    /** users' current role and state, cached briefly; forget() a user after changing them */
    readonly userStatus: UserStatusCache
  }
  interface FastifyRequest {
    /** the caller's tenant-scoped database; only on authenticated routes */
    readonly db: TenantDb
    readonly principal: Claims
    readonly userPrincipal: UserClaims
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT { payload: Claims, user: Claims }
}

/** Platform rights need both the flag and the admin role: demoting an admin takes them away too. */
export function isPlatformAdmin(c: Claims): boolean {
  return c.typ === 'access' && c.pa === true && c.role === 'admin'
}

const allowed: Record<Exclude<Access, 'public'>, (c: Claims) => boolean> = {
  read: (c) => c.typ === 'access',
  write: (c) => c.typ === 'access' && (c.role === 'admin' || c.role === 'operator'),
  admin: (c) => c.typ === 'access' && c.role === 'admin',
  platform: isPlatformAdmin,
  device: (c) => c.typ === 'device',
}

/** Whether `claims` have the rights of an access level: what the route check enforces, for a route that shows some readers less. */
export const hasAccess = (access: Exclude<Access, 'public'>, claims: Claims): boolean => allowed[access](claims)

const dbCache = new WeakMap<FastifyRequest, TenantDb>()

export default fp<{ ctx: ApiContext, secret: string }>(async function authPlugin(app, { ctx, secret }) {
  await app.register(jwt, { secret, verify: { algorithms: ['HS256'] } })
  const userStatus = ctx.users ?? new UserStatusCache(ctx.db.pool)
  app.decorate('userStatus', userStatus)

  app.decorateRequest('principal', {
    getter(this: FastifyRequest): Claims {
      if (!this.user) throw unauthorized()
      return this.user
    },
  })
  app.decorateRequest('userPrincipal', {
    getter(this: FastifyRequest): UserClaims {
      const p = this.principal
      if (p.typ !== 'access') throw forbidden('a user token is required')
      return p
    },
  })
  app.decorateRequest('db', {
    getter(this: FastifyRequest): TenantDb {
      let db = dbCache.get(this)
      if (!db) {
        db = forTenant(ctx.db.prisma, this.principal.tid)
        dbCache.set(this, db)
      }
      return db
    },
  })

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/') && route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare config.access`)
    }
  })

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access
    if (access === undefined || access === 'public') return
    try {
      await request.jwtVerify()
    } catch {
      throw unauthorized('missing, invalid or expired token')
    }
    const claims = request.user
    if (claims.typ === 'device' && access !== 'device') throw forbidden('device credentials cannot use this route')
    if (claims.typ === 'access') {
      const revoked = revokedBecause(claims, await userStatus.get(claims.tid, claims.sub))
      if (revoked) throw unauthorized(revoked)
    }
    if (!allowed[access](claims)) throw forbidden(`requires ${access} access; your role is ${claims.role}`)
  })
}, { name: 'auth', dependencies: ['errors'] })

export type { DeviceClaims, UserClaims }
