// What one tenant's admin can do to accounts, and what an old token can do: found by an audit.
// Logging in says nothing about other tenants before the password is right; platform rights go with
// the admin role; two admins demoting each other at once leave one admin; a logged-out refresh token
// is refused without ending the user's other sessions, and a copied one ends their access tokens too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { unique } from './fixtures.js'

interface Session { accessToken: string, refreshToken: string }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`account safety on ${backend.name}`, () => {
    let db: Database
    let app: App
    let ops: TestTenant
    let acme: TestTenant
    let globex: TestTenant

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      ops = await seedTenant(app, db, 'ops', true)
      acme = await seedTenant(app, db, 'acme')
      globex = await seedTenant(app, db, 'globex')
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    const login = (payload: Record<string, string>) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload })
    const refresh = (refreshToken: string) => app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })
    const createUser = (t: TestTenant, email: string, role: string, password = PASSWORD) =>
      as(app, t.tokens.admin)({ method: 'POST', url: '/api/v1/users', payload: { email, password, role } })

    describe('login with an email that another tenant also uses', () => {
      it('logs the right user in without a tenant, and answers a wrong password with 401 (not "which tenant?")', async () => {
        const email = `${unique('shared')}@example.test`
        expect((await createUser(acme, email, 'operator')).statusCode).toBe(201)
        // another tenant's admin takes the same email, with another password
        expect((await createUser(globex, email, 'viewer', 'a different password')).statusCode).toBe(201)

        const wrong = await login({ email, password: 'not the password' })
        expect(wrong.statusCode).toBe(401)
        expect(wrong.json()).toMatchObject({ code: 'BAD_CREDENTIALS' })

        const mine = await login({ email, password: PASSWORD })
        expect(mine.statusCode).toBe(200)
        expect(mine.json()).toMatchObject({ user: { role: 'operator', tenant: { slug: 'acme' } } })
        const theirs = await login({ email, password: 'a different password' })
        expect(theirs.json()).toMatchObject({ user: { role: 'viewer', tenant: { slug: 'globex' } } })
      })

      it('asks for the tenant only when the password is right in several of them', async () => {
        const email = `${unique('twice')}@example.test`
        await createUser(acme, email, 'operator')
        await createUser(globex, email, 'operator')
        const res = await login({ email, password: PASSWORD })
        expect(res.statusCode).toBe(400)
        expect(res.json()).toMatchObject({ code: 'TENANT_REQUIRED' })
        expect((await login({ email, password: PASSWORD, tenant: 'globex' })).json()).toMatchObject({ user: { tenant: { slug: 'globex' } } })
      })
    })

    describe('platform rights', () => {
      it('go with the admin role: a demoted platform admin can no longer create tenants', async () => {
        const email = `${unique('pa')}@ops.test`
        const created = await createUser(ops, email, 'admin')
        const id = created.json<{ id: string }>().id
        const granted = await as(app, ops.tokens.admin)({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { platformAdmin: true } })
        expect(granted.json()).toMatchObject({ role: 'admin', platformAdmin: true })
        const before = (await login({ email, password: PASSWORD })).json<Session>()
        expect((await as(app, before.accessToken)({ method: 'GET', url: '/api/v1/tenants' })).statusCode).toBe(200)

        const demoted = await as(app, ops.tokens.admin)({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { role: 'viewer' } })
        expect(demoted.json()).toMatchObject({ role: 'viewer', platformAdmin: false })
        const after = (await refresh(before.refreshToken)).json<Session & { user: { platformAdmin: boolean } }>()
        expect(after.user).toMatchObject({ role: 'viewer', platformAdmin: false })
        const tenants = await as(app, after.accessToken)({ method: 'POST', url: '/api/v1/tenants', payload: { slug: unique('evil'), admin: { email: `${unique('e')}@x.test`, password: PASSWORD } } })
        expect(tenants.statusCode).toBe(403)
        expect((await as(app, after.accessToken)({ method: 'GET', url: '/api/v1/auth/me' })).json()).toMatchObject({ role: 'viewer', platformAdmin: false })
      })

      it('are granted and removed only by a platform administrator, and only to admins', async () => {
        const admin = (await createUser(acme, `${unique('a')}@acme.test`, 'admin')).json<{ id: string }>()
        const byTenantAdmin = await as(app, acme.tokens.admin)({ method: 'PATCH', url: `/api/v1/users/${admin.id}`, payload: { platformAdmin: true } })
        expect(byTenantAdmin.statusCode).toBe(403)
        expect(byTenantAdmin.json<{ message: string }>().message).toContain('platform administrator')

        const viewer = (await createUser(ops, `${unique('v')}@ops.test`, 'viewer')).json<{ id: string }>()
        const toViewer = await as(app, ops.tokens.admin)({ method: 'PATCH', url: `/api/v1/users/${viewer.id}`, payload: { platformAdmin: true } })
        expect(toViewer.statusCode).toBe(400)
        expect(toViewer.json<{ message: string }>().message).toContain('admin role')
      })
    })

    it('keeps one admin when two admins demote each other at the same moment', async () => {
      for (let round = 0; round < 4; round++) {
        const slug = unique('pair')
        const t = await seedTenant(app, db, slug)
        const other = (await createUser(t, `${unique('y')}@${slug}.test`, 'admin')).json<{ id: string }>()
        const otherEmail = (await as(app, t.tokens.admin)({ method: 'GET', url: `/api/v1/users/${other.id}` })).json<{ email: string }>().email
        const otherSession = (await login({ email: otherEmail, password: PASSWORD })).json<Session>()

        const [a, b] = await Promise.all([
          as(app, t.tokens.admin)({ method: 'PATCH', url: `/api/v1/users/${other.id}`, payload: { role: 'viewer' } }),
          as(app, otherSession.accessToken)({ method: 'PATCH', url: `/api/v1/users/${t.userIds.admin}`, payload: { role: 'viewer' } }),
        ])
        const codes = [a.statusCode, b.statusCode].sort()
        // one demotion wins; the other is refused, either by the admin rule or because its caller was
        // demoted first (its token no longer matches its role)
        expect(codes[0]).toBe(200)
        expect([401, 409]).toContain(codes[1])
        const admins = await db.prisma.user.count({ where: { tenantId: t.id, role: 'admin', disabled: false } })
        expect(admins).toBe(1)
      }
    })

    describe('refresh tokens', () => {
      async function session(): Promise<{ email: string, first: Session, second: Session }> {
        const email = `${unique('r')}@acme.test`
        await createUser(acme, email, 'operator')
        const first = (await login({ email, password: PASSWORD })).json<Session>()
        const second = (await login({ email, password: PASSWORD })).json<Session>()
        return { email, first, second }
      }

      it('refuses a logged-out token without ending the user\'s other sessions', async () => {
        const { first, second } = await session()
        expect((await app.inject({ method: 'POST', url: '/api/v1/auth/logout', payload: { refreshToken: first.refreshToken } })).statusCode).toBe(204)
        const again = await refresh(first.refreshToken)
        expect(again.statusCode).toBe(401)
        expect(again.json<{ message: string }>().message).toBe('refresh token revoked')
        expect((await refresh(second.refreshToken)).statusCode).toBe(200)
      })

      it('ends every session, access tokens included, when a token already traded is presented again', async () => {
        const { first, second } = await session()
        const rotated = (await refresh(first.refreshToken)).json<Session>()
        const me = (token: string) => as(app, token)({ method: 'GET', url: '/api/v1/auth/me' })
        expect((await me(rotated.accessToken)).statusCode).toBe(200)

        const copied = await refresh(first.refreshToken)
        expect(copied.statusCode).toBe(401)
        expect(copied.json<{ message: string }>().message).toContain('all sessions of this user were ended')
        expect((await me(rotated.accessToken)).statusCode).toBe(401)
        expect((await me(second.accessToken)).statusCode).toBe(401)
        expect((await refresh(rotated.refreshToken)).statusCode).toBe(401)
        expect((await refresh(second.refreshToken)).statusCode).toBe(401)
      })
    })
  })
}
