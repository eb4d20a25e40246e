// The `q` text filters are case-insensitive substring matches of what was typed, character for
// character: `%`, `_` and `\` are not LIKE wildcards or escapes (`?q=%` used to list everything).
import { describe, expect, it } from 'vitest'
import { databaseBackends } from '../../helpers/databases.js'
import { appWithTenant, as } from '../../helpers/app.js'
import { hashDeviceSecret, newDeviceId, newDeviceSecret } from '../../../src/security/device-secrets.js'

// every name the filters below are tried against, in each resource
const NAMES = ['100% Freight', '1000 Freight', 'RACE-1', 'race_1', 'C:\\depot', 'C:depot']

const cases: Array<[query: string, matches: string[]]> = [
  ['100%', ['100% Freight']],
  ['%', ['100% Freight']],
  ['1_0', []], // as a wildcard, `_` would find both freights
  ['% fr', ['100% Freight']],
  ['RACE_1', ['race_1']],
  ['_', ['race_1']],
  ['\\', ['C:\\depot']],
  ['c:\\d', ['C:\\depot']],
  ['freight', ['100% Freight', '1000 Freight']], // still case-insensitive substrings
]

for (const backend of databaseBackends()) {
  describe.runIf(backend.available)(`q text filters on ${backend.name}`, () => {
    const suite = appWithTenant(backend)
    const list = async (resource: string, q: string, field: string) => {
      const res = await as(suite.app, suite.tenant.tokens.viewer)({ method: 'GET', url: `/api/v1/${resource}?q=${encodeURIComponent(q)}&limit=500` })
      expect(res.statusCode, res.body).toBe(200)
      return res.json<{ items: Array<Record<string, string>>, total: number }>().items.map((i) => i[field]).sort()
    }
    const expectMatches = async (resource: string, field: string, except: Record<string, string[]> = {}) => {
      for (const [q, matches] of cases) expect(await list(resource, q, field), `${resource}?q=${q}`).toEqual([...except[q] ?? matches].sort())
    }

    it('matches % _ and \\ literally in carrier names', async () => {
      const tenantId = suite.tenant.id
      await suite.db.prisma.carrier.createMany({ data: NAMES.map((name) => ({ tenantId, name })) })
      await expectMatches('carriers', 'name')
    })

    it('matches % _ and \\ literally in shipment references', async () => {
      const tenantId = suite.tenant.id
      await suite.db.prisma.shipment.createMany({ data: NAMES.map((reference) => ({ tenantId, reference })) })
      await expectMatches('shipments', 'reference')
    })

    it('matches them literally in device names and ids, and in vehicle names and plates', async () => {
      const tenantId = suite.tenant.id
      await suite.db.prisma.device.createMany({ data: NAMES.map((name) => ({ tenantId, id: newDeviceId(), name, secretHash: hashDeviceSecret(newDeviceSecret()) })) })
      // every device id (dev_…) has an underscore: `_` is found there, and in nothing else
      await expectMatches('devices', 'name', { _: NAMES })
      await suite.db.prisma.vehicle.createMany({ data: NAMES.map((name, i) => ({ tenantId, name: `truck ${i}`, plate: name })) })
      await expectMatches('vehicles', 'plate')
    })

    it('matches them literally in driver and geofence names', async () => {
      const tenantId = suite.tenant.id
      await suite.db.prisma.driver.createMany({ data: NAMES.map((name) => ({ tenantId, name })) })
      await expectMatches('drivers', 'name')
      const circle = { kind: 'circle' as const, geometry: { type: 'Point', coordinates: [2.35, 48.85] }, radiusM: 100 }
      await suite.db.prisma.geofence.createMany({ data: NAMES.map((name) => ({ tenantId, name, ...circle })) })
      await expectMatches('geofences', 'name')
    })
  })
}
