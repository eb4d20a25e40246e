// The simulator against a real ReTrack node: it provisions through the API, drives a city route with
// faults on, and ReTrack turns that into delivered shipments, dead letters and Last Wills.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { PASSWORD } from '../../helpers/app.js'
import { connect, nodeApi, postgresAvailable, startNode, type TestNode } from '../../helpers/server.js'

describe('simulator → ReTrack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-e2e-'))
  let node: TestNode
  let watcher: MqttClient
  const wills: string[] = []
  let summary: Awaited<ReturnType<typeof runSimulation>>['summary']
  const q = async <T>(sql: string, ...args: unknown[]) => (await node.server.db.pool.query<T & object>(sql, args)).rows

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    await createTenantWithAdmin(node.server.db.prisma, { slug: 'simx', admin: { email: 'admin@simx.test', password: PASSWORD } })
    const { accessToken } = await nodeApi(node)<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email: 'admin@simx.test', password: PASSWORD })
    // an integration watching the devices' status topics sees the Last Wills the broker publishes
    watcher = await connect(node.mqttUrl, { clientId: 'simx:watch', username: 'simx', password: accessToken })
    watcher.on('message', (_topic, payload) => { if (payload.toString().includes('offline')) wills.push(payload.toString()) })
    await watcher.subscribeAsync('tenants/simx/devices/+/status', { qos: 1 })
    const config = parseConfig([
      '--provision', '--api', node.http, '--url', node.mqttUrl, '--tenant', 'simx', '--email', 'admin@simx.test', '--password', PASSWORD,
      '--devices', '4', '--routes', 'de-berlin-city-deliveries', '--speedup', '600', '--interval', '10', '--trips', '1', '--stagger', '0',
      '--malformed-pct', '2', '--gap-prob', '0.01', '--gap-s', '240', '--drop-prob', '0.001', '--seed', '7',
      '--temp', '5', '--temp-excursion-prob', '1',
      '--devices-file', join(dir, 'devices.json'), '--truth-out', join(dir, 'truth.json'), '--progress', '0', '--rate', '0',
    ])
    ;({ summary } = await runSimulation(config, { log: () => undefined }))
    await node.server.ingestion.drain()
  }, 240_000)
  afterAll(async () => { await watcher?.endAsync(); await node?.close() })

  it('every acknowledged reading was answered, nothing refused', () => {
    expect(summary.refused).toBe(0)
    expect(summary.acked).toBeGreaterThan(1000)
  })

  it('drives every shipment through its stops, with arrivals matching the simulator\'s truth', async () => {
    const shipments = await q<{ id: string, status: string }>('select id, status from shipments')
    expect(shipments).toHaveLength(4)
    // after its last stop the truck drives off: the final departure confirms the delivery
    expect(shipments.map((s) => s.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered'])
    const stops = await q<{ shipment_id: string, seq: number, status: string, type: string }>('select shipment_id, seq, status, type from stops order by shipment_id, seq')
    for (const s of shipments) {
      expect(stops.filter((x) => x.shipment_id === s.id).map((x) => x.status).every((status) => status === 'departed')).toBe(true)
    }
    // one delivered event per delivery stop departed, the last one included
    const delivered = await q<{ n: number }>(`select count(*)::int n from tracking_events where type = 'delivered'`)
    const deliveryStops = stops.filter((x) => x.type === 'delivery').length
    expect(deliveryStops).toBeGreaterThanOrEqual(4 * 5)
    expect(delivered[0]!.n).toBe(deliveryStops)
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { devices: Array<{ deviceId: string, trips: Array<{ stops: Array<{ arrivedAt: number }> }> }> }
    const arrivals = await q<{ device_id: string, ts: Date }>(`select device_id, ts from tracking_events where type = 'arrived' order by ts`)
    for (const d of truth.devices) {
      const actual = arrivals.filter((a) => a.device_id === d.deviceId).map((a) => a.ts.getTime())
      const expected = d.trips[0]!.stops.map((s) => s.arrivedAt)
      expect(actual).toHaveLength(expected.length)
      // arrival = first fix inside the 250 m fence, so a little before the truck reaches the stop's
      // point. The first stop is the depot the truck starts at: ReTrack can only see it from the
      // first fix, which comes after the connection ramp (seconds of wall time, minutes simulated).
      expect(actual[0]).toBeGreaterThanOrEqual(expected[0]!)
      actual.slice(1).forEach((t, i) => expect(Math.abs(t - expected[i + 1]!)).toBeLessThan(90_000))
    }
  })

  it('malformed payloads were dead-lettered, each with a reason', async () => {
    const letters = await q<{ code: string, reason: string }>('select code, reason from dead_letters')
    expect(letters.length).toBeGreaterThan(0)
    expect(letters.every((l) => l.reason.length > 0)).toBe(true)
  })

  it('batches sent after coverage gaps were applied in event-time order: late only what was sent again after a lost PUBACK', async () => {
    const dropped = await node.server.metrics.registry.getSingleMetricAsString('retrack_readings_dropped_total')
    const late = Number(/reason="late"} (\d+)/.exec(dropped)?.[1] ?? 0)
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { devices: Array<{ fixes: { batches: number, requeued: number } }> }
    expect(truth.devices.reduce((n, d) => n + d.fixes.batches, 0)).toBeGreaterThan(0)
    // an abrupt drop can lose the PUBACK of a reading ReTrack already stored and applied; the
    // simulator then sends it again in its next backlog batch, behind the asset's state by then:
    // 'late' by design (stored once, applied once). A backlog applied out of order would make
    // whole batches late, far more than the few readings re-sent.
    const resent = truth.devices.reduce((n, d) => n + d.fixes.requeued, 0)
    expect(late).toBeLessThanOrEqual(resent)
    const stored = await q<{ n: number }>('select count(*)::int n from positions')
    expect(stored[0]!.n).toBeGreaterThan(500)
  })

  it('reefer excursions the simulator planned raise a temperature excursion on the shipment, which clears', async () => {
    const shipments = await q<{ temp_min_c: number, temp_max_c: number }>('select temp_min_c, temp_max_c from shipments')
    expect(shipments.every((s) => s.temp_min_c === 2 && s.temp_max_c === 8)).toBe(true)
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { devices: Array<{ deviceId: string, temperatureExcursions?: Array<{ start: number, end: number }> }> }
    const planned = truth.devices.filter((d) => (d.temperatureExcursions ?? []).length > 0)
    expect(planned.length).toBeGreaterThan(0)
    const events = await q<{ device_id: string, type: string, ts: Date }>(`select device_id, type, ts from tracking_events where type in ('temperature_excursion', 'temperature_normal') order by ts`)
    for (const d of planned) {
      const mine = events.filter((e) => e.device_id === d.deviceId)
      const raised = mine.find((e) => e.type === 'temperature_excursion')
      expect(raised, d.deviceId).toBeDefined()
      const excursion = d.temperatureExcursions![0]!
      expect(raised!.ts.getTime()).toBeGreaterThan(excursion.start)
      expect(raised!.ts.getTime()).toBeLessThan(excursion.end)
      expect(mine.some((e) => e.type === 'temperature_normal' && e.ts > raised!.ts)).toBe(true)
    }
  })

  it('abrupt drops made the broker publish the Last Will, and presence went offline', async () => {
    expect(wills.length).toBeGreaterThan(0)
    expect(wills[0]).toContain('offline')
  })
})
