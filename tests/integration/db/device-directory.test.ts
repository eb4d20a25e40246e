// The device lookup behind every CONNECT: the lookups of one tick share one joined query (a fleet
// reconnecting costs a query per few hundred devices, not two per device), answers are cached,
// unknown ids too (briefly), and invalidate() forgets an entry at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import { DeviceDirectory } from '../../../src/db/device-directory.js'
import type { Database } from '../../../src/db/database.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { hashDeviceSecret } from '../../../src/security/device-secrets.js'
import { databaseBackends } from '../../helpers/databases.js'

const DEVICES = 1200

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`device directory on ${backend.name}`, () => {
    let db: Database
    let tenantId: string
    const statements: string[] = []
    // the real pool, with the statements it is given written down
    const counting = (): Pick<pg.Pool, 'query'> => ({
      query: ((text: string, values: unknown[]) => { statements.push(text); return db.pool.query(text, values) }) as pg.Pool['query'],
    })
    const ids = Array.from({ length: DEVICES }, (_, i) => `dev_dir${String(i).padStart(6, '0')}`)

    beforeAll(async () => {
      db = await backend.open()
      tenantId = (await createTenantWithAdmin(db.prisma, { slug: 'dirfleet', admin: { email: 'a@dirfleet.test', password: 'password123' } })).tenant.id
      await db.pool.query(
        `INSERT INTO devices (id, tenant_id, name, secret_hash, enabled, updated_at)
         SELECT id, $2::uuid, id, $3, NOT (id LIKE '%9'), now() FROM unnest($1::text[]) AS id`,
        [ids, tenantId, hashDeviceSecret('s3cret-s3cret-s3cret')])
    })
    afterAll(async () => { await db?.close() })

    it('answers a storm of concurrent lookups with one query per 500 ids, each with its tenant', async () => {
      statements.length = 0
      const directory = new DeviceDirectory(counting())
      const records = await Promise.all([...ids, ...ids.slice(0, 50), 'dev_nosuchdevice'].map((id) => directory.find(id)))
      expect(statements).toHaveLength(Math.ceil((DEVICES + 1) / 500))
      expect(records.slice(0, DEVICES).every((r, i) => r?.id === ids[i])).toBe(true)
      expect(records[0]).toEqual({
        id: ids[0], tenantId, tenantSlug: 'dirfleet', vehicleId: null,
        secretHash: hashDeviceSecret('s3cret-s3cret-s3cret'), secretVersion: 1, enabled: true,
      })
      expect(records[9]!.enabled).toBe(false)
      expect(records[DEVICES + 3]).toBe(records[3]) // the repeated id shares its answer
      expect(records.at(-1)).toBeNull()
    })

    it('serves known and unknown ids from its cache until they expire or are invalidated', async () => {
      const directory = new DeviceDirectory(counting(), 60_000, 50)
      await directory.find(ids[1]!)
      await directory.find('dev_nosuchdevice')
      statements.length = 0
      await directory.find(ids[1]!)
      await directory.find('dev_nosuchdevice')
      expect(statements).toHaveLength(0)
      await new Promise((r) => setTimeout(r, 60))
      await db.pool.query('UPDATE devices SET secret_version = 2 WHERE id = $1', [ids[1]])
      expect(await directory.find('dev_nosuchdevice')).toBeNull() // negative entry expired: asked again
      expect((await directory.find(ids[1]!))!.secretVersion).toBe(1) // still cached
      directory.invalidate(ids[1]!)
      expect((await directory.find(ids[1]!))!.secretVersion).toBe(2)
      expect(statements).toHaveLength(2)
    })

    it('fails every caller of a failed lookup, and the next lookup goes to the database again', async () => {
      let fail = true
      const flaky: Pick<pg.Pool, 'query'> = {
        query: ((text: string, values: unknown[]) => fail ? Promise.reject(new Error('connection reset')) : db.pool.query(text, values)) as pg.Pool['query'],
      }
      const directory = new DeviceDirectory(flaky)
      const failed = await Promise.allSettled([directory.find(ids[2]!), directory.find(ids[3]!)])
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
      fail = false
      expect((await directory.find(ids[2]!))?.id).toBe(ids[2])
    })
  })
}
