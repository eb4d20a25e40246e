// An access token speaks for its user only while the user's row agrees: disabling, deleting or
// changing the role of a user ends their access tokens at once (on this node), not when they expire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'
import type { UserRole } from '../../../src/security/tokens.js'
import { UserStatusCache } from '../../../src/security/user-status.js'
import { unique } from './fixtures.js'

interface Session { id: string, email: string, accessToken: string, refreshToken: string }

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`user sessions on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    const admin = () => as(app, acme.tokens.admin)

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'acme')
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    const login = (email: string) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: PASSWORD } })

    /** A fresh user of the role, created by the admin and logged in. */
    async function signedIn(role: UserRole): Promise<Session> {
      const email = `${unique(role)}@acme.test`
      const created = await admin()({ method: 'POST', url: '/api/v1/users', payload: { email, password: PASSWORD, role } })
      expect(created.statusCode).toBe(201)
      const res = await login(email)
      expect(res.statusCode).toBe(200)
      return { id: created.json<{ id: string }>().id, email, ...res.json<{ accessToken: string, refreshToken: string }>() }
    }

    const me = (token: string) => as(app, token)({ method: 'GET', url: '/api/v1/auth/me' })
    const listCarriers = (token: string) => as(app, token)({ method: 'GET', url: '/api/v1/carriers' })

    it('ends an operator\'s access token as soon as an admin disables them', async () => {
      const op = await signedIn('operator')
      expect((await listCarriers(op.accessToken)).statusCode).toBe(200)

      expect((await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: true } })).statusCode).toBe(200)

      const res = await listCarriers(op.accessToken)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') })
      expect((await me(op.accessToken)).statusCode).toBe(401)
      const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: op.refreshToken } })
      expect(refreshed.statusCode).toBe(401)
    })

    it('lets a re-enabled user log in again', async () => {
      const op = await signedIn('operator')
      await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: true } })
      expect((await listCarriers(op.accessToken)).statusCode).toBe(401)
      expect((await login(op.email)).statusCode).toBe(401)

      expect((await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: false } })).statusCode).toBe(200)
      const again = await login(op.email)
      expect(again.statusCode).toBe(200)
      expect((await listCarriers(again.json<{ accessToken: string }>().accessToken)).statusCode).toBe(200)
    })

    it('ends every session of a user whose password an admin changes, and lets the new password in', async () => {
      const op = await signedIn('operator')
      const second = await login(op.email) // another device of the same user
      expect((await listCarriers(second.json<{ accessToken: string }>().accessToken)).statusCode).toBe(200)

      const changed = await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { password: 'a-new-password-42' } })
      expect(changed.statusCode).toBe(200)
      expect(changed.json()).not.toHaveProperty('sessionVersion')

      for (const token of [op.accessToken, second.json<{ accessToken: string }>().accessToken]) {
        const res = await listCarriers(token)
        expect(res.statusCode).toBe(401)
        expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('password was changed') })
      }
      expect((await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: op.refreshToken } })).statusCode).toBe(401)
      expect((await login(op.email)).statusCode).toBe(401) // the old password
      const fresh = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: op.email, password: 'a-new-password-42' } })
      expect(fresh.statusCode).toBe(200)
      expect((await listCarriers(fresh.json<{ accessToken: string }>().accessToken)).statusCode).toBe(200)
      // and a refresh keeps the new session's version
      const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: fresh.json<{ refreshToken: string }>().refreshToken } })
      expect(refreshed.statusCode).toBe(200)
      expect((await listCarriers(refreshed.json<{ accessToken: string }>().accessToken)).statusCode).toBe(200)
    })

    it('does not revive the access tokens of a user disabled and re-enabled within their lifetime', async () => {
      const op = await signedIn('operator')
      await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: true } })
      expect((await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: false } })).statusCode).toBe(200)

      const res = await listCarriers(op.accessToken)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ message: expect.stringContaining('sign in again') })
      // a change that is not about credentials ends nothing
      const again = (await login(op.email)).json<{ accessToken: string }>().accessToken
      await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { name: 'Renamed', disabled: false } })
      expect((await listCarriers(again)).statusCode).toBe(200)
    })

    it('ends a deleted user\'s access token at once', async () => {
      const op = await signedIn('operator')
      expect((await me(op.accessToken)).statusCode).toBe(200)

      expect((await admin()({ method: 'DELETE', url: `/api/v1/users/${op.id}` })).statusCode).toBe(204)

      const res = await listCarriers(op.accessToken)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('revoked') })
    })

    it('takes admin rights away from a demoted admin at once; a refresh gives a token with the new role', async () => {
      const other = await signedIn('admin')
      expect((await as(app, other.accessToken)({ method: 'GET', url: '/api/v1/users' })).statusCode).toBe(200)

      expect((await admin()({ method: 'PATCH', url: `/api/v1/users/${other.id}`, payload: { role: 'operator' } })).statusCode).toBe(200)

      const stale = await as(app, other.accessToken)({ method: 'GET', url: '/api/v1/users' })
      expect(stale.statusCode).toBe(401)
      expect(stale.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('role') })
      const created = await as(app, other.accessToken)({ method: 'POST', url: '/api/v1/users', payload: { email: `${unique('x')}@acme.test`, password: PASSWORD, role: 'admin' } })
      expect(created.statusCode).toBe(401)

      // refresh reads the role from the user's row: the session carries on as an operator
      const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: other.refreshToken } })
      expect(refreshed.statusCode).toBe(200)
      const token = refreshed.json<{ accessToken: string }>().accessToken
      expect((await me(token)).json()).toMatchObject({ role: 'operator' })
      expect((await as(app, token)({ method: 'GET', url: '/api/v1/users' })).statusCode).toBe(403)
      expect((await listCarriers(token)).statusCode).toBe(200)
    })

    it('keeps the tokens of users nobody changed working', async () => {
      const op = await signedIn('operator')
      const bystander = await signedIn('operator')
      await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: true } })
      await admin()({ method: 'PATCH', url: `/api/v1/users/${bystander.id}`, payload: { name: 'Renamed' } })

      expect((await listCarriers(op.accessToken)).statusCode).toBe(401)
      expect((await listCarriers(bystander.accessToken)).statusCode).toBe(200)
      for (const role of ['admin', 'operator', 'viewer'] as const) expect((await me(acme.tokens[role])).statusCode).toBe(200)
    })

    it('on another node, sees a change once its cache entry expires', async () => {
      const op = await signedIn('operator')
      const otherNode = new UserStatusCache(db.pool, 200)
      expect(await otherNode.get(acme.id, op.id)).toEqual({ role: 'operator', platformAdmin: false, disabled: false, sessionVersion: 0 })

      await admin()({ method: 'PATCH', url: `/api/v1/users/${op.id}`, payload: { disabled: true } })
      expect(await otherNode.get(acme.id, op.id)).toMatchObject({ disabled: false }) // still cached there
      await new Promise((resolve) => setTimeout(resolve, 250))
      expect(await otherNode.get(acme.id, op.id)).toMatchObject({ disabled: true })

      // another tenant's id, or an id that is not a uuid, is no user at all (and no database error)
      expect(await otherNode.get('00000000-0000-4000-8000-000000000000', op.id)).toBeNull()
      expect(await otherNode.get(acme.id, 'not-a-uuid')).toBeNull()
    })
  })
}
