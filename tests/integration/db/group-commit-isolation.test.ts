// One caller's row the database refuses must not cost the other callers of the same batch their
// rows: a failed batch is written again caller by caller, and only the guilty one fails. Driven
// with the real positions insert, where a U+0000 in attrs (which jsonb refuses) stands for any row
// the decoder let through but PostgreSQL will not store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Fix } from '../../../src/contracts/payloads.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import type { Database } from '../../../src/db/database.js'
import { GroupCommitWriter, isRowError } from '../../../src/db/group-commit.js'
import { insertPositions } from '../../../src/db/positions.js'
import { hashDeviceSecret } from '../../../src/security/device-secrets.js'
import { databaseBackends } from '../../helpers/databases.js'

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`group commit isolation on ${backend.name}`, () => {
    let db: Database
    let tenantId: string
    const fix = (deviceId: string, ts: number, attrs?: Fix['attrs']): Fix => ({ tenantId, deviceId, ts, receivedAt: ts, lat: 48.85, lon: 2.35, ...(attrs ? { attrs } : {}) })

    beforeAll(async () => {
      db = await backend.open()
      tenantId = (await createTenantWithAdmin(db.prisma, { slug: 'isolation', admin: { email: 'a@isolation.test', password: 'password123' } })).tenant.id
      await db.pool.query(
        `INSERT INTO devices (id, tenant_id, name, secret_hash, enabled, updated_at) SELECT id, $2::uuid, id, $3, true, now() FROM unnest($1::text[]) AS id`,
        [['dev_iso_a', 'dev_iso_b', 'dev_iso_c'], tenantId, hashDeviceSecret('s3cret-s3cret-s3cret')])
    })
    afterAll(async () => { await db?.close() })

    const batchOfThree = (isolate?: (err: unknown) => boolean) => {
      const batches: number[] = []
      const writer = new GroupCommitWriter<Fix, boolean>((rows) => { batches.push(rows.length); return insertPositions(db.pool, rows) },
        { maxBatch: 100, maxWaitMs: 20, maxConcurrent: 1, ...(isolate ? { isolate } : {}) })
      const t = Date.now() - 60_000 + (isolate ? 0 : 1000)
      const writes = [
        writer.write([fix('dev_iso_a', t)]),
        writer.write([fix('dev_iso_b', t, { note: 'bad\u0000byte' })]),
        writer.write([fix('dev_iso_c', t), fix('dev_iso_c', t + 1)]),
      ]
      return { batches, writes: Promise.allSettled(writes), t }
    }
    const stored = async (t: number) => (await db.pool.query<{ device_id: string }>(
      'SELECT device_id FROM positions WHERE tenant_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts <= to_timestamp(($2 + 1) / 1000.0) ORDER BY device_id, ts', [tenantId, t])).rows.map((r) => r.device_id)

    it('without isolation the refused row fails every caller of its batch (what isolation is for)', async () => {
      const { writes, batches, t } = batchOfThree()
      expect((await writes).map((w) => w.status)).toEqual(['rejected', 'rejected', 'rejected'])
      expect(batches).toEqual([4])
      expect(await stored(t)).toEqual([])
    })

    it('with isolation only the caller of the refused row fails; the others are stored', async () => {
      const { writes, batches, t } = batchOfThree(isRowError)
      const results = await writes
      expect(results.map((w) => w.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(results[0]).toEqual({ status: 'fulfilled', value: [true] })
      expect(results[2]).toEqual({ status: 'fulfilled', value: [true, true] })
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/\\u0000|0x00|unicode|null/i)
      expect(batches).toEqual([4, 1, 1, 2])
      expect(await stored(t)).toEqual(['dev_iso_a', 'dev_iso_c', 'dev_iso_c'])
    })
  })
}
