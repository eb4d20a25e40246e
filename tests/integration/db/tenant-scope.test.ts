// The tenant-scoped Prisma client (src/db/tenant-scope.ts) on a real database: what one tenant's
// client can reach of another tenant's rows. Reads and writes by id, moving a row by changing its
// tenantId or through a nested relation write, and raw SQL, which the types hide but the runtime
// must refuse too (a cast, or a `tx` inside $transaction, reaches it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../../src/db/database.js'
import { forTenant, TenantScopeError, type TenantDb } from '../../../src/db/tenant-scope.js'
import { databaseBackends } from '../../helpers/databases.js'

type Raw = { $queryRawUnsafe(sql: string): Promise<unknown>, $executeRawUnsafe(sql: string): Promise<unknown>, $queryRaw(s: TemplateStringsArray): Promise<unknown> }
const raw = (db: unknown) => db as Raw

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`tenant-scoped Prisma client on ${backend.name}`, () => {
    let db: Database
    let a: TenantDb
    let b: TenantDb
    let aId: string
    let bId: string

    beforeAll(async () => {
      db = await backend.open()
      aId = (await db.prisma.tenant.create({ data: { slug: 'scope-a', name: 'A' } })).id
      bId = (await db.prisma.tenant.create({ data: { slug: 'scope-b', name: 'B' } })).id
      a = forTenant(db.prisma, aId)
      b = forTenant(db.prisma, bId)
    })
    afterAll(async () => { await db?.close() })

    const tenantOf = async (table: string, id: string) =>
      (await db.pool.query<{ tenant_id: string }>(`SELECT tenant_id FROM ${table} WHERE id = $1`, [id])).rows[0]?.tenant_id

    it('reads and writes by id stay inside the tenant', async () => {
      const theirs = await b.carrier.create({ data: { name: 'b-carrier' } as never })
      expect(await a.carrier.findUnique({ where: { id: theirs.id } })).toBeNull()
      expect(await a.$transaction(async (tx) => tx.carrier.findFirst({ where: { id: theirs.id } }))).toBeNull()
      expect((await a.carrier.updateMany({ where: { id: theirs.id }, data: { name: 'x' } })).count).toBe(0)
      await expect(a.carrier.delete({ where: { id: theirs.id } })).rejects.toThrow()
      expect((await b.carrier.findUniqueOrThrow({ where: { id: theirs.id } })).name).toBe('b-carrier')
    })

    it('a created row belongs to the tenant whatever tenantId the data names', async () => {
      const made = await a.carrier.create({ data: { name: 'sneaky', tenantId: bId } as never })
      expect(await tenantOf('carriers', made.id)).toBe(aId)
    })

    it('an update cannot move a row into another tenant by its tenantId', async () => {
      const mine = await a.carrier.create({ data: { name: 'mine' } as never })
      await a.carrier.update({ where: { id: mine.id }, data: { tenantId: bId } as never }).catch(() => undefined)
      await a.carrier.updateMany({ where: { id: mine.id }, data: { tenantId: bId } as never }).catch(() => undefined)
      await a.carrier.upsert({ where: { id: mine.id }, create: { name: 'u' } as never, update: { tenantId: bId } as never }).catch(() => undefined)
      expect(await tenantOf('carriers', mine.id)).toBe(aId)
      expect(await b.carrier.findUnique({ where: { id: mine.id } })).toBeNull()
    })

    it('a nested relation write cannot reach or move rows across tenants', async () => {
      const theirCarrier = await b.carrier.create({ data: { name: 'b-carrier-2' } as never })
      const mine = await a.shipment.create({ data: { reference: 'NESTED-A' } as never })
      // connecting another tenant's carrier would rewrite the shipment's (tenant_id, carrier_id) pair
      await expect(a.shipment.update({ where: { id: mine.id }, data: { carrier: { connect: { id: theirCarrier.id } } } as never }))
        .rejects.toBeInstanceOf(TenantScopeError)
      expect(await tenantOf('shipments', mine.id)).toBe(aId)

      // connecting another tenant's shipment as a child would rewrite its tenant_id to ours
      const theirShipment = await b.shipment.create({ data: { reference: 'NESTED-B' } as never })
      const myCarrier = await a.carrier.create({ data: { name: 'a-carrier' } as never })
      await expect(a.carrier.update({ where: { id: myCarrier.id }, data: { shipments: { connect: [{ id: theirShipment.id }] } } as never }))
        .rejects.toBeInstanceOf(TenantScopeError)
      expect(await tenantOf('shipments', theirShipment.id)).toBe(bId)

      await expect(a.carrier.update({ where: { id: myCarrier.id }, data: { tenant: { connect: { id: bId } } } as never }))
        .rejects.toBeInstanceOf(TenantScopeError)
      expect(await tenantOf('carriers', myCarrier.id)).toBe(aId)
    })

    it('raw SQL is refused at run time, also inside a transaction', async () => {
      await expect(raw(a).$queryRawUnsafe('SELECT count(*) FROM carriers')).rejects.toBeInstanceOf(TenantScopeError)
      await expect(raw(a).$executeRawUnsafe('UPDATE carriers SET name = name')).rejects.toBeInstanceOf(TenantScopeError)
      await expect(raw(a).$queryRaw`SELECT 1`).rejects.toBeInstanceOf(TenantScopeError)
      await expect(a.$transaction(async (tx) => raw(tx).$queryRawUnsafe('SELECT count(*) FROM carriers'))).rejects.toBeInstanceOf(TenantScopeError)
    })

    it('the operations the API uses still work', async () => {
      const s = await a.shipment.create({ data: { reference: 'OPS' } as never })
      const stops = await a.stop.createManyAndReturn({ data: [{ shipmentId: s.id, seq: 0, type: 'pickup', name: 'P', lat: 1, lon: 2, radiusM: 100 }] as never })
      await a.geofence.createManyAndReturn({ data: stops.map((st) => ({ stopId: st.id, name: 'P', kind: 'circle', geometry: { type: 'Point', coordinates: [2, 1] }, radiusM: 100 })) as never })
      expect(await a.geofence.findMany({ where: { stop: { shipmentId: s.id } }, select: { id: true } })).toHaveLength(1)
      await a.shipment.update({ where: { id: s.id }, data: { notes: 'n' } })
      expect((await a.stop.updateMany({ where: { id: stops[0]!.id, status: 'pending' }, data: { name: 'Q' } })).count).toBe(1)
      expect(await a.stop.count({ where: { shipmentId: s.id } })).toBe(1)
      expect((await a.shipment.deleteMany({ where: { id: s.id } })).count).toBe(1)
      expect(await b.shipment.count({ where: { reference: 'OPS' } })).toBe(0)
    })
  })
}
