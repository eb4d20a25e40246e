// A platform administrator's account opens every tenant: a tenant admin of the same tenant may not
// change it in any way (password, role, name, disable, platform flag) nor delete it, or they could
// sign in as it or strip its rights. Another platform administrator may.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import { unique } from './fixtures.js'

const changes: Array<[string, Record<string, unknown>]> = [
  ['a new password', { password: 'takenover123' }],
  ['a demotion', { role: 'operator' }],
  ['the admin role again', { role: 'admin' }],
  ['a new name', { name: 'Mallory' }],
  ['a disable', { disabled: true }],
  ['a re-enable', { disabled: false }],
  ['removing platform rights', { platformAdmin: false }],
]

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`platform administrators' accounts on ${backend.name}`, () => {
    let db: Database
    let app: App
    let demo: TestTenant
    /** an ordinary admin of the platform admin's own tenant */
    let tenantAdmin: string
    const platformAdmin = () => as(app, demo.tokens.admin)
    const login = (email: string, password = PASSWORD) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } })

    /** A user of `demo` created by the platform admin; `platform` also grants it platform rights. */
    async function user(role: 'admin' | 'operator' | 'viewer', platform = false): Promise<{ id: string, email: string }> {
      const email = `${unique(role)}@demo.test`
      const created = await platformAdmin()({ method: 'POST', url: '/api/v1/users', payload: { email, password: PASSWORD, role } })
      expect(created.statusCode).toBe(201)
      const { id } = created.json<{ id: string }>()
      if (platform) expect((await platformAdmin()({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { platformAdmin: true } })).statusCode).toBe(200)
      return { id, email }
    }

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      demo = await seedTenant(app, db, 'demo', true)
      const { email } = await user('admin')
      tenantAdmin = (await login(email)).json<{ accessToken: string }>().accessToken
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    const row = (id: string) => db.prisma.user.findUniqueOrThrow({ where: { id } })

    describe('a tenant admin', () => {
      it.each(changes)('gets 403 for %s of a platform administrator, and nothing changes', async (_, payload) => {
        const before = await row(demo.userIds.admin)
        const res = await as(app, tenantAdmin)({ method: 'PATCH', url: `/api/v1/users/${demo.userIds.admin}`, payload })
        expect(res.statusCode).toBe(403)
        expect(res.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('only a platform administrator') })
        expect(await row(demo.userIds.admin)).toEqual(before)
        expect(await db.prisma.refreshToken.count({ where: { userId: demo.userIds.admin, revokedAt: { not: null } } })).toBe(0)
      })

      it('gets 403 deleting a platform administrator', async () => {
        const res = await as(app, tenantAdmin)({ method: 'DELETE', url: `/api/v1/users/${demo.userIds.admin}` })
        expect(res.statusCode).toBe(403)
        expect(res.json<{ message: string }>().message).toBe('only a platform administrator can delete a platform administrator')
        expect(await row(demo.userIds.admin)).toMatchObject({ platformAdmin: true, role: 'admin', disabled: false })
      })

      it('cannot take the account over: the platform admin\'s password and sessions still work', async () => {
        await as(app, tenantAdmin)({ method: 'PATCH', url: `/api/v1/users/${demo.userIds.admin}`, payload: { password: 'takenover123' } })
        expect((await login('admin@demo.test', 'takenover123')).statusCode).toBe(401)
        expect((await login('admin@demo.test')).json()).toMatchObject({ user: { platformAdmin: true } })
        expect((await platformAdmin()({ method: 'GET', url: '/api/v1/tenants' })).statusCode).toBe(200)
      })

      it('cannot promote back a demoted user who still carries the platform flag', async () => {
        const { id } = await user('admin', true)
        // demoted some other way (an older version, the database) without the flag being cleared
        await db.prisma.user.update({ where: { id }, data: { role: 'operator' } })
        const res = await as(app, tenantAdmin)({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { role: 'admin' } })
        expect(res.statusCode).toBe(403)
        expect(await row(id)).toMatchObject({ role: 'operator', platformAdmin: true })
      })

      it('still manages the other users of the tenant', async () => {
        const { id, email } = await user('viewer')
        expect((await as(app, tenantAdmin)({ method: 'PATCH', url: `/api/v1/users/${id}`, payload: { password: 'a fresh password', role: 'operator' } })).statusCode).toBe(200)
        expect((await login(email, 'a fresh password')).json()).toMatchObject({ user: { role: 'operator' } })
        expect((await as(app, tenantAdmin)({ method: 'DELETE', url: `/api/v1/users/${id}` })).statusCode).toBe(204)
      })

      it('answers 404 for a user that does not exist, as before', async () => {
        const res = await as(app, tenantAdmin)({ method: 'PATCH', url: '/api/v1/users/00000000-0000-4000-8000-000000000000', payload: { name: 'x' } })
        expect(res.statusCode).toBe(404)
      })
    })

    describe('a platform administrator', () => {
      it.each(changes)('may make %s to another platform administrator', async (_, payload) => {
        const other = await user('admin', true)
        const res = await platformAdmin()({ method: 'PATCH', url: `/api/v1/users/${other.id}`, payload })
        expect(res.statusCode).toBe(200)
        // demoted or stripped of the flag, the user keeps no platform rights
        const expected = payload['role'] === 'operator' || payload['platformAdmin'] === false ? false : true
        expect(res.json()).toMatchObject({ platformAdmin: expected })
      })

      it('may delete another platform administrator', async () => {
        const other = await user('admin', true)
        expect((await platformAdmin()({ method: 'DELETE', url: `/api/v1/users/${other.id}` })).statusCode).toBe(204)
      })

      it('may change their own account', async () => {
        expect((await platformAdmin()({ method: 'PATCH', url: `/api/v1/users/${demo.userIds.admin}`, payload: { name: 'Root' } })).json()).toMatchObject({ name: 'Root', platformAdmin: true })
      })
    })
  })
}
