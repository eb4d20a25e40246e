// Repeating a run with the same devices file against a real ReTrack node (docs/simulator.md,
// "Repeating a run"): the first run records where its simulated time ended, and the second one
// starts after it. Anchored afresh, the second run would start hours before the first one's last
// fix, and the node would drop every one of its readings as late.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { parseDevicesFile } from '../../../devices/credentials.js'
import { haversineM } from '../../../devices/geo.js'
import { runSimulation } from '../../../devices/run.js'
import { postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

describe('simulator run repeated with the same devices file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-repeat-'))
  const file = join(dir, 'devices.json')
  let node: TestNode
  let acme: Provisioned

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
    writeFileSync(file, JSON.stringify(acme.devices.map((d) => ({ deviceId: d.id, secret: d.secret }))), { mode: 0o644 })
  })
  afterAll(async () => { await node?.close() })

  const late = async () => {
    const text = await node.server.metrics.registry.getSingleMetricAsString('retrack_readings_dropped_total')
    return Number(/reason="late"[^}]*} (\d+)/.exec(text)?.[1] ?? 0)
  }
  const lastFix = async (deviceId: string) => {
    const { rows } = await node.server.db.pool.query<{ ts: Date }>('select max(ts) ts from positions where device_id = $1', [deviceId])
    return rows[0]!.ts.getTime()
  }
  const jumps = async () => {
    const text = await node.server.metrics.registry.getSingleMetricAsString('retrack_readings_dropped_total')
    return Number(/reason="impossible_jump"[^}]*} (\d+)/.exec(text)?.[1] ?? 0)
  }
  // 6 s at 600×: an hour, past the pickup's 40 min dwell: the trucks end the first run on the road
  const run = (logs: string[]) => runSimulation(parseConfig(['--url', node.mqttUrl, '--tenant', 'acme', '--devices-file', file,
    '--routes', 'de-berlin-city-deliveries', '--speedup', '600', '--interval', '5', '--duration', '6', '--stagger', '0', '--rate', '0', '--progress', '0', '--seed', '4'], {}),
  { log: (l) => logs.push(l) })

  it('starts the second run after the first one ended, so the node takes its readings', async () => {
    const first = await run([])
    await node.server.ingestion.drain()
    expect(first.summary.everConnected).toBe(2)
    // the first run recorded its simulated end for each device, in a file that stays owner-only
    const recorded = parseDevicesFile(readFileSync(file, 'utf8'))
    const firstEnd = Date.parse(first.summary.simulated.end)
    for (const d of recorded) expect(d.simulatedUntil).toBe(firstEnd)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const lateBefore = await late()
    const lastBefore = await lastFix(acme.devices[0]!.id)
    expect(lastBefore).toBeLessThanOrEqual(firstEnd)

    const logs: string[] = []
    const second = await run(logs)
    await node.server.ingestion.drain()
    expect(second.summary.acked).toBeGreaterThan(50)
    // none of the second run's readings was behind the first run's: nothing dropped as late
    expect(await late()).toBe(lateBefore)
    expect(Date.parse(second.summary.simulated.start)).toBeGreaterThan(firstEnd)
    expect(logs.some((l) => l.startsWith('these devices ran before, up to '))).toBe(true)
    for (const d of second.truth.devices) expect(d.fixes.firstTs!).toBeGreaterThan(firstEnd)
    // each truck went on from where the first run left it (recorded in the file), on the road, not
    // from its first stop: no impossible jump
    expect(await jumps()).toBe(0)
    for (const d of recorded) {
      const stop0 = second.truth.devices.find((x) => x.deviceId === d.deviceId)!.trips[0]!.stops[0]!
      expect(haversineM(d.lastPosition!.lat, d.lastPosition!.lon, stop0.lat, stop0.lon)).toBeGreaterThan(1000)
      const [resumed] = (await node.server.db.pool.query<{ lat: number, lon: number }>(
        'select lat, lon from positions where device_id = $1 and ts > $2 order by ts limit 1', [d.deviceId, new Date(firstEnd)])).rows
      expect(haversineM(resumed!.lat, resumed!.lon, d.lastPosition!.lat, d.lastPosition!.lon)).toBeLessThan(100)
    }
    expect(await lastFix(acme.devices[0]!.id)).toBe(second.truth.devices.find((d) => d.deviceId === acme.devices[0]!.id)!.fixes.lastTs)
  }, 60_000)
})
