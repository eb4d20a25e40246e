// Login, refresh (rotating), logout, who-am-I, and the device token exchange. Failed logins are
// throttled per account and per client address (src/security/login-throttle.ts); device secrets
// (256 random bits) and refresh tokens are not guessable, so their routes are not.
import type { FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { AppError, unauthorized } from '../../../errors.js'
import { decoyHash, verifyPassword } from '../../../security/passwords.js'
import { deviceSecretMatches } from '../../../security/device-secrets.js'
import { hashRefreshToken, newRefreshToken } from '../../../security/tokens.js'
import { LoginThrottle } from '../../../security/login-throttle.js'
import { ErrorResponse, errors } from '../../schemas/common.js'
import type { ApiContext } from '../../context.js'
import { isPlatformAdmin } from '../../plugins/auth.js'
import { DeviceToken, DeviceTokenBody, LoginBody, Me, RefreshBody, Session } from './schemas.js'

/** users sharing an email across tenants whose password is tried on a login without a tenant */
const MAX_CANDIDATES = 10

type SessionUser = { id: string, tenantId: string, email: string, name: string, role: 'admin' | 'operator' | 'viewer', platformAdmin: boolean, sessionVersion: number, tenant: { id: string, slug: string, name: string } }

const routes: FastifyPluginAsync<{ ctx: ApiContext }> = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { prisma } = ctx.db
  async function endSessions(tenantId: string, userId: string) {
    await prisma.$transaction([
      prisma.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } }),
      prisma.user.updateMany({ where: { tenantId, id: userId }, data: { sessionVersion: { increment: 1 } } }),
    ])
    fastify.userStatus.forget(tenantId, userId)
    ctx.changes?.changed({ kind: 'user', tenantId, id: userId })
  }
  const refused = () => { ctx.metrics.loginFailures.inc(); return new AppError(401, 'BAD_CREDENTIALS', 'wrong email, password or tenant') }
  const { LOGIN_MAX_FAILURES, LOGIN_IP_MAX_FAILURES, LOGIN_LOCKOUT_S } = ctx.config
  const throttle = new LoginThrottle({ maxFailures: LOGIN_MAX_FAILURES, addressMaxFailures: LOGIN_IP_MAX_FAILURES, lockS: LOGIN_LOCKOUT_S })

  async function openSession(user: SessionUser) {
    const refresh = newRefreshToken()
    await prisma.refreshToken.create({
      data: { tenantId: user.tenantId, userId: user.id, tokenHash: refresh.hash, expiresAt: new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL_S * 1000) },
    })
    const accessToken = ctx.tokens.accessToken({ sub: user.id, tid: user.tenantId, ten: user.tenant.slug, role: user.role, pa: user.platformAdmin, sv: user.sessionVersion })
    return {
      tokenType: 'Bearer' as const, accessToken, expiresIn: ctx.tokens.accessTtlS, refreshToken: refresh.token,
      user: { id: user.id, email: user.email, name: user.name, role: user.role, platformAdmin: user.platformAdmin && user.role === 'admin', tenant: user.tenant },
    }
  }

  app.post('/login', {
    schema: {
      tags: ['auth'], summary: 'Exchange email and password for an access and a refresh token', security: [], body: LoginBody,
      response: { 200: Session, ...errors(400, 401), 429: ErrorResponse },
    },
    config: { access: 'public' },
  }, async (request, reply) => {
    const { email, password, tenant } = request.body
    // a throttled account or address gets 429 before its password is looked at, right or wrong: an
    // answer that depended on it would let guessing go on through the lock
    const verdict = throttle.begin(email, request.ip)
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterS))
      throw new AppError(429, 'TOO_MANY_ATTEMPTS', `too many failed logins: try again in ${verdict.retryAfterS} s`, { retryAfterS: verdict.retryAfterS })
    }
    const { attempt } = verdict
    const failed = () => {
      const locked = attempt.failed()
      if (locked) request.log.warn({ rule: locked, ip: request.ip }, 'login throttled after repeated failures')
      return refused()
    }
    try {
      const candidates = await prisma.user.findMany({
        where: { email: email.toLowerCase(), disabled: false, ...(tenant ? { tenant: { slug: tenant } } : {}) },
        include: { tenant: { select: { id: true, slug: true, name: true } } },
        orderBy: { createdAt: 'asc' },
        take: MAX_CANDIDATES,
      })
      // the password is checked before anything else is said: asking "which tenant?" first told anyone
      // that the email was taken in another tenant, and let that tenant break the user's tenant-less login
      if (candidates.length === 0) {
        // compare against a decoy when there is no such user, so timing does not reveal which emails exist
        await verifyPassword(password, decoyHash)
        throw failed()
      }
      const matches: typeof candidates = []
      for (const candidate of candidates) if (await verifyPassword(password, candidate.passwordHash)) matches.push(candidate)
      if (matches.length > 1) throw new AppError(400, 'TENANT_REQUIRED', 'this email and password belong to several tenants: say which one with "tenant"')
      const user = matches[0]
      if (!user) throw failed()
      attempt.succeeded()
      await prisma.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } })
      return await openSession(user)
    } finally {
      attempt.end()
    }
  })

  app.post('/refresh', {
    schema: { tags: ['auth'], summary: 'Trade a refresh token for a new pair (the old one stops working)', security: [], body: RefreshBody, response: { 200: Session, ...errors(400, 401) } },
    config: { access: 'public' },
  }, async (request) => {
    const stored = await prisma.refreshToken.findUnique({
      where: { tokenHash: hashRefreshToken(request.body.refreshToken) },
      include: { user: { include: { tenant: { select: { id: true, slug: true, name: true } } } } },
    })
    if (!stored) throw unauthorized('unknown refresh token')
    if (stored.rotatedAt) {
      // a token already traded for a new pair, presented again, was copied: end every session of
      // that user, access tokens included (the copy may have been used to get one)
      await endSessions(stored.tenantId, stored.userId)
      throw unauthorized('refresh token already used; all sessions of this user were ended')
    }
    // logged out, or ended by an admin (password change, disable): refused, nothing else ended
    if (stored.revokedAt) throw unauthorized('refresh token revoked')
    if (stored.expiresAt < new Date() || stored.user.disabled) throw unauthorized('refresh token expired')
    const now = new Date()
    const rotated = await prisma.refreshToken.updateMany({ where: { id: stored.id, revokedAt: null }, data: { revokedAt: now, rotatedAt: now } })
    if (rotated.count !== 1) throw unauthorized('refresh token already used')
    return openSession(stored.user)
  })

  app.post('/logout', {
    schema: { tags: ['auth'], summary: 'Revoke a refresh token', security: [], body: RefreshBody, response: { 204: { type: 'null' }, ...errors(400) } },
    config: { access: 'public' },
  }, async (request, reply) => {
    await prisma.refreshToken.updateMany({ where: { tokenHash: hashRefreshToken(request.body.refreshToken), revokedAt: null }, data: { revokedAt: new Date() } })
    return reply.status(204).send(null)
  })

  app.get('/me', {
    schema: { tags: ['auth'], summary: 'The caller, as the access token says', response: { 200: Me, ...errors(401, 403) } },
    config: { access: 'read' },
  }, async (request) => {
    const p = request.userPrincipal
    return { userId: p.sub, tenantId: p.tid, tenant: p.ten, role: p.role, platformAdmin: isPlatformAdmin(p) }
  })

  app.post('/device-token', {
    schema: {
      tags: ['auth'], summary: 'A device exchanges its secret for a short-lived JWT, usable as its MQTT password or on HTTP ingestion',
      security: [], body: DeviceTokenBody, response: { 200: DeviceToken, ...errors(400, 401) },
    },
    config: { access: 'public' },
  }, async (request) => {
    const { tenant, deviceId, secret } = request.body
    const device = await prisma.device.findFirst({ where: { id: deviceId, tenant: { slug: tenant } } })
    if (!device || !device.enabled || !deviceSecretMatches(secret, device.secretHash)) {
      throw new AppError(401, 'BAD_CREDENTIALS', 'unknown device, wrong tenant or secret, or device disabled')
    }
    const token = ctx.tokens.deviceToken({ sub: device.id, tid: device.tenantId, ten: tenant, sv: device.secretVersion })
    return { tokenType: 'Bearer' as const, token, expiresIn: ctx.tokens.deviceTtlS }
  })
}
export default routes
