// A unique value taken (Prisma P2002) is a 409 ALREADY_EXISTS that names the field, on PostgreSQL
// and PGlite alike. Under the driver adapter Prisma reports only the constraint's name, so these
// use real errors: most routes check first and name the value themselves, and reach P2002 only
// when two requests race.
import { describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { appWithTenant, as } from '../../helpers/app.js'
import { toAppError } from '../../../src/api/plugins/errors.js'
import { seeder, stop } from './fixtures.js'

/** What the API answers for the error `write` throws. */
async function answerTo(write: () => Promise<unknown>) {
  const error = await write().then(() => null, (e: unknown) => e)
  expect(error).toMatchObject({ code: 'P2002' })
  const { statusCode, code, message } = toAppError(error as Error)
  return { statusCode, code, message }
}

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`unique conflicts on ${backend.name}`, () => {
    const suite = appWithTenant(backend)

    it('names the field of a single-column unique value, leaving out the tenant', async () => {
      const p = suite.db.prisma
      const tenantId = suite.tenant.id
      await p.shipment.create({ data: { tenantId, reference: 'DUP-1' } })
      expect(await answerTo(() => p.shipment.create({ data: { tenantId, reference: 'DUP-1' } })))
        .toEqual({ statusCode: 409, code: 'ALREADY_EXISTS', message: 'a shipment with this reference already exists' })
      expect((await answerTo(() => p.tenant.create({ data: { slug: suite.tenant.slug, name: 'again' } }))).message)
        .toBe('a tenant with this slug already exists')
    })

    it('names every field of a composite one, and a column whose name ends like the index suffix', async () => {
      const p = suite.db.prisma
      const tenantId = suite.tenant.id
      const shipment = await seeder(suite.db, tenantId).shipment() // stops 0 and 1
      expect((await answerTo(() => p.stop.create({ data: { tenantId, shipmentId: shipment.id, seq: 0, type: 'delivery', name: 'B', lat: 2, lon: 2, radiusM: 100 } }))).message)
        .toBe('a stop with this shipmentId and seq already exists')
      const event = { tenantId, type: 'comment', ts: new Date(), source: 'user' as const, dedupeKey: 'same' }
      await p.trackingEvent.create({ data: event })
      expect((await answerTo(() => p.trackingEvent.create({ data: event }))).message)
        .toBe('a tracking event with this dedupeKey already exists')
    })

    it('answers every loser of a race for a shipment reference with a 409 that names it', async () => {
      const op = as(suite.app, suite.tenant.tokens.operator)
      const create = () => op({ method: 'POST', url: '/api/v1/shipments', payload: { reference: 'RACE-1', stops: [stop('A', 1, 1)] } })
      const answers = await Promise.all(Array.from({ length: 8 }, create))
      expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1)
      for (const lost of answers.filter((r) => r.statusCode !== 201)) {
        expect(lost.json()).toMatchObject({ statusCode: 409, code: 'ALREADY_EXISTS', message: expect.stringContaining('reference') as unknown })
      }
    })
  })
}
