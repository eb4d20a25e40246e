// The simulator's time model against a real ReTrack node, at a speedup where every wall
// millisecond is 3.6 simulated seconds: creating shipments and connecting must use up none of the
// plan (docs/simulator.md, "Time model"), device events must never predate the device's first
// reading (a shipment's timeline starts there), and the truth file's stop times must be the ones
// ReTrack can see: a first stop from the first reading, a shared stop left only when the truck
// really leaves it after the layover. A --duration too short for a trip creates no shipment.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { PASSWORD } from '../../helpers/app.js'
import { nodeApi, postgresAvailable, startNode, type TestNode } from '../../helpers/server.js'

interface TimelineItem { type: string, ts: string, source: string, deviceId: string | null, payload: Record<string, unknown> }

describe('simulated time and the truth against ReTrack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-time-'))
  let node: TestNode
  let token: string
  let result: Awaited<ReturnType<typeof runSimulation>>
  const q = async <T>(sql: string, ...args: unknown[]) => (await node.server.db.pool.query<T & object>(sql, args)).rows
  const login = ['--api', '', '--email', 'admin@timex.test', '--password', PASSWORD]

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    await createTenantWithAdmin(node.server.db.prisma, { slug: 'timex', admin: { email: 'admin@timex.test', password: PASSWORD } })
    login[1] = node.http
    token = (await nodeApi(node)<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email: 'admin@timex.test', password: PASSWORD })).accessToken
    result = await runSimulation(parseConfig(['--provision', ...login, '--url', node.mqttUrl,
      '--devices', '3', '--routes', 'de-berlin-city-deliveries', '--speedup', '3600', '--interval', '15', '--trips', '2', '--stagger', '900',
      '--seed', '11', '--rate', '0', '--progress', '0', '--devices-file', join(dir, 'devices.json')], {}), { log: () => undefined })
    await node.server.ingestion.drain()
  }, 120_000)
  afterAll(async () => { await node?.close() })

  it('creating shipments and connecting use up no simulated time: every first reading is at the simulated start, no stop is skipped', async () => {
    const simStart = Date.parse(result.summary.simulated.start)
    for (const d of result.truth.devices) expect(d.fixes.firstTs).toBe(simStart)
    expect(await q(`select id from tracking_events where type = 'stop_skipped'`)).toEqual([])
    const shipments = await q<{ status: string }>('select status from shipments')
    expect(shipments.map((s) => s.status)).toEqual(Array(6).fill('delivered'))
  })

  it('device events are never stamped before the device\'s first reading, so each trip\'s timeline shows its pickup\'s door_open', async () => {
    const firstTs = new Map(result.truth.devices.map((d) => [d.deviceId, d.fixes.firstTs!]))
    const events = await q<{ device_id: string, ts: Date }>(`select device_id, ts from tracking_events where source = 'device'`)
    expect(events.length).toBeGreaterThan(20)
    for (const e of events) expect(e.ts.getTime()).toBeGreaterThanOrEqual(firstTs.get(e.device_id)!)
    const api = nodeApi(node)
    for (const d of result.truth.devices) {
      for (const trip of d.trips) {
        const { items } = await api<{ items: TimelineItem[] }>('GET', `/api/v1/shipments/${trip.shipmentId}/timeline?limit=500`, token)
        const pickupOpened = items.filter((e) => e.source === 'device' && e.type === 'door_open' && e.payload['trip'] === trip.trip && e.payload['stopIndex'] === 0)
        expect(pickupOpened, `${d.deviceId} trip ${trip.trip}`).toHaveLength(1)
      }
    }
  })

  it('the truth\'s first stop is arrived at from the first reading, as ReTrack sees it', async () => {
    for (const d of result.truth.devices) {
      const first = d.trips[0]!
      // the stagger puts the planned start up to 15 minutes after the first reading
      expect(first.stops[0]!.arrivedAt).toBe(d.fixes.firstTs)
      const [arrived] = await q<{ ts: Date }>(`select e.ts from tracking_events e join stops s on s.id = e.stop_id
        where e.type = 'arrived' and e.shipment_id = $1 and s.seq = 0`, first.shipmentId)
      expect(arrived!.ts.getTime()).toBe(first.stops[0]!.arrivedAt)
    }
  })

  it('with two trips, the stop they share is left when the truck really leaves it, after the layover, as ReTrack sees it', async () => {
    for (const d of result.truth.devices) {
      const [first, second] = d.trips
      const shared = first!.stops.at(-1)!
      expect(shared.departedAt).toBe(second!.stops[0]!.departedAt)
      expect(second!.stops[0]!.arrivedAt).toBe(shared.arrivedAt)
      expect(first!.finishedAt).toBe(shared.departedAt)
      expect(shared.departedAt!).toBeGreaterThan(second!.plannedStart)
      const [departed] = await q<{ ts: Date }>(`select e.ts from tracking_events e join stops s on s.id = e.stop_id
        where e.type = 'departed' and e.shipment_id = $1 and s.seq = $2`, first!.shipmentId, first!.stops.length - 1)
      // departure = the first fix outside the fence (250 m and its margin): within a fix or two of the truth
      expect(departed!.ts.getTime() - shared.departedAt!).toBeGreaterThanOrEqual(0)
      expect(departed!.ts.getTime() - shared.departedAt!).toBeLessThan(3 * 60_000)
    }
  })

  it('a --duration too short for any trip creates no shipment: the trucks drive without one', async () => {
    const before = await q<{ n: number }>('select count(*)::int n from shipments')
    const logs: string[] = []
    const { summary, truth } = await runSimulation(parseConfig(['--provision', ...login, '--url', node.mqttUrl,
      '--devices', '2', '--routes', 'de-berlin-city-deliveries', '--speedup', '60', '--duration', '2', '--seed', '3', '--progress', '0',
      '--devices-file', join(dir, 'short.json')], {}), { log: (l) => logs.push(l) })
    expect(summary.acked).toBeGreaterThan(0)
    expect(await q<{ n: number }>('select count(*)::int n from shipments')).toEqual(before)
    expect(logs).toContain('2 trip(s) would not end within --duration: driven without a shipment')
    for (const d of truth.devices) expect(d.trips.map((t) => [t.shipped, t.shipmentId])).toEqual([[false, undefined]])
  }, 30_000)
})
