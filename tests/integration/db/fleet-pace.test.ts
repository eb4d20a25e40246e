// The fleet pace in the database: the 'pace' effects merged per tenant under the row's lock (none
// lost when nodes hand legs over at once), read back with the asset context of that tenant's
// devices only, a deleted tenant's leg dropped without failing the batch, a damaged row read as none.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CoreEffect } from '../../../src/core/effects.js'
import { mergeFleetPace, type FleetPace } from '../../../src/core/features/fleet-pace.js'
import { DbAssetContextLoader } from '../../../src/db/asset-context.js'
import { DeviceDirectory } from '../../../src/db/device-directory.js'
import type { Database } from '../../../src/db/database.js'
import { loadFleetPace } from '../../../src/db/fleet-pace.js'
import { applyEffects } from '../../../src/db/progress.js'
import { addSpeed, histogramSeconds, trimmedMeanSpeed } from '../../../src/geo/eta.js'
import type { App } from '../../../src/api/app.js'
import { as, seedTenant, testApp, type TestTenant } from '../../helpers/app.js'
import { databaseBackends, silentLog } from '../../helpers/databases.js'

const leg = (tenantId: string, mps: number, seconds: number): Extract<CoreEffect, { kind: 'pace' }> =>
  ({ kind: 'pace', tenantId, open: addSpeed(undefined, mps, seconds, 7200), near: addSpeed(undefined, mps / 2, seconds / 10, 7200) })

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`fleet pace on ${backend.name}`, () => {
    let db: Database
    let app: App
    let acme: TestTenant
    let globex: TestTenant

    const deviceOf = async (t: TestTenant) => {
      const res = await as(app, t.tokens.admin)({ method: 'POST', url: '/api/v1/devices', payload: { name: 'tracker' } })
      expect(res.statusCode, res.body).toBe(201)
      return res.json<{ device: { id: string } }>().device.id
    }

    beforeAll(async () => {
      db = await backend.open()
      ;({ app } = await testApp(db))
      acme = await seedTenant(app, db, 'pace-a')
      globex = await seedTenant(app, db, 'pace-b')
    })
    afterAll(async () => { await app?.close(); await db?.close() })

    it('merges the legs of a tenant, and loads them for its devices only', async () => {
      await applyEffects(db.pool, [leg(acme.id, 20, 1800)])
      await applyEffects(db.pool, [leg(acme.id, 30, 1800), { kind: 'shipment', tenantId: acme.id, shipmentId: randomUUID(), status: 'in_transit', at: Date.now() }])
      const expected = mergeFleetPace(mergeFleetPace(null, leg(acme.id, 20, 1800)), leg(acme.id, 30, 1800))
      const stored = (await loadFleetPace(db.pool, acme.id))!
      expect(histogramSeconds(stored.open)).toBeCloseTo(histogramSeconds(expected.open), 1)
      expect(trimmedMeanSpeed(stored.open, 0)).toBeCloseTo(trimmedMeanSpeed(expected.open, 0)!, 2)
      expect(histogramSeconds(stored.near)).toBeCloseTo(histogramSeconds(expected.near), 1)

      const contexts = new DbAssetContextLoader(db.pool, new DeviceDirectory(db.pool), silentLog)
      const mine = await contexts.load({ tenantId: acme.id, deviceId: await deviceOf(acme) })
      const theirs = await contexts.load({ tenantId: globex.id, deviceId: await deviceOf(globex) })
      expect(histogramSeconds(mine.fleetPace?.open)).toBeCloseTo(histogramSeconds(expected.open), 1)
      expect(theirs.fleetPace).toBeNull()
      expect(await loadFleetPace(db.pool, globex.id)).toBeNull()
    })

    it('loses no leg when many are merged at once (the row is locked, not overwritten)', async () => {
      const legs = Array.from({ length: 12 }, () => leg(globex.id, 25, 600))
      await Promise.all(legs.map((l) => applyEffects(db.pool, [l])))
      const sequential = legs.reduce<FleetPace | null>((into, l) => mergeFleetPace(into, l), null)!
      const stored = (await loadFleetPace(db.pool, globex.id))!
      // a lost update would leave the seconds of fewer legs
      expect(histogramSeconds(stored.open)).toBeCloseTo(histogramSeconds(sequential.open), 0)
    })

    it('drops the leg of a tenant that no longer exists, and applies the rest of the batch', async () => {
      const ghost = randomUUID()
      const before = histogramSeconds((await loadFleetPace(db.pool, acme.id))!.open)
      await applyEffects(db.pool, [leg(ghost, 20, 600), leg(acme.id, 20, 600)])
      expect((await db.pool.query('SELECT 1 FROM fleet_paces WHERE tenant_id = $1', [ghost])).rowCount).toBe(0)
      expect(histogramSeconds((await loadFleetPace(db.pool, acme.id))!.open)).toBeGreaterThan(before)
    })

    it('reads a damaged row as no pace, and the next leg replaces it', async () => {
      await db.pool.query(`UPDATE fleet_paces SET open = '[["x", 1, 2]]', near = '{"a": 1}' WHERE tenant_id = $1`, [acme.id])
      expect(await loadFleetPace(db.pool, acme.id)).toBeNull()
      await applyEffects(db.pool, [leg(acme.id, 22, 900)])
      const stored = (await loadFleetPace(db.pool, acme.id))!
      expect(histogramSeconds(stored.open)).toBeCloseTo(900, 0)
      expect(trimmedMeanSpeed(stored.open)).toBeCloseTo(22, 1)
    })
  })
}
