import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { PASSWORD, as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`auth on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'acme')
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    it('logs in with email and password and returns who the caller is', async () => {
      const res = await as(app, acme.tokens.operator)({ method: 'GET', url: '/api/v1/auth/me' })
      expect(res.statusCode).toBe(200)
      expect(res.json()).toMatchObject({ tenant: 'acme', role: 'operator', tenantId: acme.id })
    })

    it('refuses a wrong password with 401 and a coded error, and the same for an unknown email', async () => {
      for (const payload of [{ email: 'admin@acme.test', password: 'wrong password' }, { email: 'nobody@acme.test', password: PASSWORD }]) {
        const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload })
        expect(res.statusCode).toBe(401)
        expect(res.json()).toMatchObject({ code: 'BAD_CREDENTIALS', message: expect.any(String) })
      }
    })

    it('rejects a malformed login with 400 and says what is wrong', async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'not-an-email', password: 'x' } })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('email') })
      expect(res.json()).not.toHaveProperty('stack')
      expect(res.body).not.toMatch(/\s+at .+:\d+:\d+/)
    })

    it('refresh rotates: the new token works, the old one is refused and revokes the session family', async () => {
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'viewer@acme.test', password: PASSWORD } })
      const first = login.json<{ refreshToken: string }>().refreshToken
      const refreshed = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first } })
      expect(refreshed.statusCode).toBe(200)
      const second = refreshed.json<{ refreshToken: string, accessToken: string }>()
      expect(second.refreshToken).not.toBe(first)
      expect((await as(app, second.accessToken)({ method: 'GET', url: '/api/v1/auth/me' })).statusCode).toBe(200)

      const reused = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: first } })
      expect(reused.statusCode).toBe(401)
      // reuse of a rotated token ended every session of that user, the fresh one included
      const after = await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: second.refreshToken } })
      expect(after.statusCode).toBe(401)
    })

    it('refuses requests without a token, with a forged token, and with a token signed by another secret', async () => {
      expect((await app.inject({ method: 'GET', url: '/api/v1/carriers' })).statusCode).toBe(401)
      const forged = acme.tokens.admin.slice(0, -4) + 'AAAA'
      expect((await as(app, forged)({ method: 'GET', url: '/api/v1/carriers' })).statusCode).toBe(401)
    })

    it('serves health, readiness, metrics and the OpenAPI description', async () => {
      expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' })
      expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({ status: 'ready', checks: { database: true } })
      const metrics = await app.inject({ method: 'GET', url: '/metrics' })
      expect(metrics.body).toContain('retrack_http_requests_total')
      const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>()
      expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/devices', '/api/v1/carriers/{id}']))
      expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200)
    })
  })
}
