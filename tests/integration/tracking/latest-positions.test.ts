// GET /positions/latest on a whole node: the current position of every device of the caller's
// tenant, a page of devices at a time, from the asset state store (in memory, and in Redis where
// one answers). Fixes arrive over MQTT; other tenants' devices never appear.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connect, deviceOptions, nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

interface Latest { items: Array<{ deviceId: string, vehicleId: string | null, lastFix: { ts: string, lat: number, lon: number } | null }>, nextCursor: string | null }

const services = () => inject('services')
const stores: Array<[string, boolean, () => Record<string, string>]> = [
  ['in memory', true, () => ({})],
  ['in Redis', services().redis, () => ({ REDIS_URL: services().redisUrl, REDIS_KEY_PREFIX: `retrack-test:${randomBytes(4).toString('hex')}:`, MQTT_CLUSTER: 'off' })],
]

for (const [name, available, env] of stores) {
  describe.runIf(available)(`latest positions, state ${name}`, () => {
    let node: TestNode
    let acme: Provisioned
    let globex: Provisioned
    const t0 = Date.now() - 60_000

    beforeAll(async () => {
      node = await startNode(env(), { postgres: postgresAvailable() })
      acme = await provision(node, 'acme', 3)
      globex = await provision(node, 'globex', 1)
      // acme's first two devices and globex's one report; acme's third never does
      const reporters: Array<[string, { id: string, secret: string }, number]> = [
        ['acme', acme.devices[0]!, 45.1], ['acme', acme.devices[1]!, 46.2], ['globex', globex.devices[0]!, 47.3],
      ]
      for (const [slug, device, lat] of reporters) {
        const client = await connect(node.mqttUrl, deviceOptions(slug, device))
        const fixes = [0, 1, 2].map((i) => ({ ts: t0 + i * 5000, lat: lat + i * 1e-4, lon: 4.8 }))
        await client.publishAsync(`tenants/${slug}/devices/${device.id}/telemetry`, JSON.stringify(fixes), { qos: 1 })
        await client.endAsync()
      }
      await node.server.ingestion.pipeline.idle()
    })
    afterAll(async () => { await node?.close() })

    const latest = (token: string, query = '') => nodeApi(node)<Latest>('GET', `/api/v1/positions/latest${query}`, token)

    it('pages through every device of the tenant by id, each with its last accepted fix or null', async () => {
      const first = await latest(acme.operatorToken, '?limit=2')
      expect(first.items).toHaveLength(2)
      expect(first.nextCursor).toEqual(expect.any(String))
      const second = await latest(acme.operatorToken, `?limit=2&cursor=${first.nextCursor}`)
      expect(second.items).toHaveLength(1)
      expect(second.nextCursor).toBeNull()

      const all = [...first.items, ...second.items]
      expect(all.map((d) => d.deviceId)).toEqual(acme.devices.map((d) => d.id).sort())
      const byId = new Map(all.map((d) => [d.deviceId, d]))
      expect(byId.get(acme.devices[0]!.id)!.lastFix).toMatchObject({ ts: new Date(t0 + 10_000).toISOString(), lat: 45.1 + 2e-4, lon: 4.8 })
      expect(byId.get(acme.devices[1]!.id)!.lastFix).toMatchObject({ ts: new Date(t0 + 10_000).toISOString(), lat: 46.2 + 2e-4 })
      expect(byId.get(acme.devices[2]!.id)!.lastFix).toBeNull()
      // one page holds them all by default
      expect((await latest(acme.adminToken)).items.map((d) => d.deviceId)).toEqual(all.map((d) => d.deviceId))
    })

    it('shows a tenant only its own devices', async () => {
      const mine = await latest(globex.operatorToken)
      expect(mine.items).toEqual([{ deviceId: globex.devices[0]!.id, vehicleId: null, lastFix: expect.objectContaining({ lat: 47.3 + 2e-4 }) }])
      // a cursor naming another tenant's device only moves the keyset: still only acme's devices after it
      const cursor = Buffer.from(`d:${globex.devices[0]!.id}`).toString('base64url')
      const after = await latest(acme.operatorToken, `?cursor=${cursor}`)
      expect(after.items.every((d) => acme.devices.some((a) => a.id === d.deviceId))).toBe(true)
    })

    it('filters by vehicle, and refuses a cursor it did not issue or a limit out of range with a 400', async () => {
      const api = nodeApi(node)
      const vehicle = await api<{ id: string }>('POST', '/api/v1/vehicles', acme.adminToken, { name: 'Truck 7', plate: `LP-${randomBytes(3).toString('hex')}` })
      await api('PATCH', `/api/v1/devices/${acme.devices[1]!.id}`, acme.adminToken, { vehicleId: vehicle.id })
      expect((await latest(acme.operatorToken, `?vehicleId=${vehicle.id}`)).items).toEqual([
        { deviceId: acme.devices[1]!.id, vehicleId: vehicle.id, lastFix: expect.objectContaining({ lat: 46.2 + 2e-4 }) },
      ])
      await expect(latest(acme.operatorToken, '?cursor=bm90LW91cnM')).rejects.toThrow(/400.*INVALID_CURSOR/)
      await expect(latest(acme.operatorToken, '?limit=1001')).rejects.toThrow(/400/)
    })
  })
}
