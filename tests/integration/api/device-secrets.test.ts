// Device credentials: the secret is shown once, stored only as its sha256, never read back; a
// rotation replaces it (and bumps the version device JWTs carry); a disabled device gets no token.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import type { App } from '../../../src/api/app.js'
import type { Database } from '../../../src/db/database.js'

interface Credentials { device: { id: string, secretVersion: number }, secret: string, mqtt: { clientId: string, username: string } }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`device secrets on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let created: Credentials
    const admin = () => as(app, acme.tokens.admin)
    const exchange = (deviceId: string, secret: string) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/device-token', payload: { tenant: 'acme', deviceId, secret } })
    const storedHash = async (id: string) => (await db.prisma.device.findUniqueOrThrow({ where: { id } })).secretHash

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'acme')
      const res = await admin()({ method: 'POST', url: '/api/v1/devices', payload: { name: 'reefer 12' } })
      expect(res.statusCode).toBe(201)
      created = res.json<Credentials>()
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    it('returns a 256-bit base64url secret once, with the MQTT identity to use it with', () => {
      expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(created.mqtt).toMatchObject({ clientId: created.device.id, username: 'acme' })
      expect(created.device.secretVersion).toBe(1)
    })

    it('stores only the sha256 of the secret', async () => {
      const hash = await storedHash(created.device.id)
      expect(hash).not.toBe(created.secret)
      expect(hash).toBe(sha256(created.secret))
      const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE secret_hash = $1 OR name = $1', [created.secret])
      expect(rows[0]!.n).toBe(0)
    })

    it('never shows the secret or its hash again: not in get, list, patch or token answers', async () => {
      const hash = await storedHash(created.device.id)
      const answers = await Promise.all([
        admin()({ method: 'GET', url: `/api/v1/devices/${created.device.id}` }),
        admin()({ method: 'GET', url: '/api/v1/devices' }),
        as(app, acme.tokens.viewer)({ method: 'GET', url: '/api/v1/devices?q=reefer' }),
        admin()({ method: 'PATCH', url: `/api/v1/devices/${created.device.id}`, payload: { name: 'reefer 12b' } }),
        admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/token` }),
      ])
      for (const res of answers) {
        expect(res.statusCode, res.body).toBe(200)
        expect(res.body).not.toContain(created.secret)
        expect(res.body).not.toContain(hash)
        expect(res.body).not.toMatch(/secret_?hash/i)
      }
      expect(answers[1].json<{ items: Array<Record<string, unknown>> }>().items[0]).not.toHaveProperty('secret')
    })

    it('exchanges the current secret for a device token, and refuses a wrong one', async () => {
      const ok = await exchange(created.device.id, created.secret)
      expect(ok.statusCode).toBe(200)
      expect(ok.json()).toMatchObject({ tokenType: 'Bearer', token: expect.any(String) })
      expect((await exchange(created.device.id, created.secret.slice(0, -1) + 'x')).statusCode).toBe(401)
    })

    it('rotates: a new secret, a bumped version, and the old secret refused', async () => {
      const res = await admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/rotate-secret` })
      expect(res.statusCode).toBe(200)
      const rotated = res.json<Credentials>()
      expect(rotated.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(rotated.secret).not.toBe(created.secret)
      expect(rotated.device.secretVersion).toBe(created.device.secretVersion + 1)
      expect(await storedHash(created.device.id)).toBe(sha256(rotated.secret))

      const old = await exchange(created.device.id, created.secret)
      expect(old.statusCode).toBe(401)
      expect(old.json()).toMatchObject({ code: 'BAD_CREDENTIALS' })
      expect((await exchange(created.device.id, rotated.secret)).statusCode).toBe(200)
      created = rotated
    })

    it('refuses a disabled device even with its current secret, and accepts it again once enabled', async () => {
      expect((await admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/disable` })).statusCode).toBe(200)
      expect((await exchange(created.device.id, created.secret)).statusCode).toBe(401)
      expect((await admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/enable` })).statusCode).toBe(200)
      expect((await exchange(created.device.id, created.secret)).statusCode).toBe(200)
    })

    it('issues no admin token for a disabled device (409 DEVICE_DISABLED), and does once it is enabled again', async () => {
      const issue = () => admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/token` })
      expect((await admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/disable` })).statusCode).toBe(200)
      const refused = await issue()
      expect(refused.statusCode).toBe(409)
      expect(refused.json()).toMatchObject({ code: 'DEVICE_DISABLED', message: expect.stringContaining('disabled') as unknown })
      expect(refused.body).not.toContain('"token"')
      expect((await admin()({ method: 'POST', url: `/api/v1/devices/${created.device.id}/enable` })).statusCode).toBe(200)
      const issued = await issue()
      expect(issued.statusCode).toBe(200)
      expect(issued.json()).toMatchObject({ tokenType: 'Bearer', token: expect.any(String) as unknown })
    })
  })
}
