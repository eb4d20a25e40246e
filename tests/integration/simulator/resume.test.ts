// Stopping a logged-in simulator mid-trip and starting it again with the same devices file, against
// a real ReTrack node (docs/simulator.md, "Repeating a run"): the interrupted shipments are
// cancelled so the new trip's readings go to the new shipments; the new run starts after ReTrack's
// last fix of each device and its trucks drive on from where ReTrack last saw them, even when the
// devices file recorded neither (a run killed hard); and a run whose readings ReTrack drops does
// not pass in silence.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { parseDevicesFile } from '../../../devices/credentials.js'
import { haversineM } from '../../../devices/geo.js'
import { runSimulation } from '../../../devices/run.js'
import { createTenantWithAdmin } from '../../../src/db/accounts.js'
import { fromRoot } from '../../../src/paths.js'
import { PASSWORD } from '../../helpers/app.js'
import { nodeApi, postgresAvailable, startNode, type TestNode } from '../../helpers/server.js'

interface Shipment { id: string, reference: string, status: string, device_id: string }

describe('a logged-in simulator stopped mid-trip and started again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-resume-'))
  const file = join(dir, 'sim-devices.json')
  let node: TestNode
  let token: string
  const q = async <T>(sql: string, ...args: unknown[]) => (await node.server.db.pool.query<T & object>(sql, args)).rows
  const dropped = async (reason: string) => {
    const text = await node.server.metrics.registry.getSingleMetricAsString('retrack_readings_dropped_total')
    return Number(new RegExp(`reason="${reason}"[^}]*} (\\d+)`).exec(text)?.[1] ?? 0)
  }
  const lastFixes = async () => new Map((await q<{ device_id: string, ts: Date, lat: number, lon: number }>(
    `select distinct on (device_id) device_id, ts, lat, lon from positions where filter_reason is null order by device_id, ts desc`))
    .map((r) => [r.device_id, r]))
  // no --tenant: the devices file written by --provision says which tenant
  const again = (logs: string[], ...flags: string[]) => runSimulation(parseConfig(['--api', node.http, '--url', node.mqttUrl,
    '--email', 'admin@resume.test', '--password', PASSWORD, '--devices-file', file, '--routes', 'de-berlin-city-deliveries',
    '--speedup', '3600', '--interval', '15', '--duration', '5', '--stagger', '0', '--rate', '0', '--progress', '0', '--seed', '5', ...flags], {}),
  { log: (l) => logs.push(l) })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    await createTenantWithAdmin(node.server.db.prisma, { slug: 'resume', admin: { email: 'admin@resume.test', password: PASSWORD } })
    token = (await nodeApi(node)<{ accessToken: string }>('POST', '/api/v1/auth/login', null, { email: 'admin@resume.test', password: PASSWORD })).accessToken
    // the first run: provisions two trucks with three trips (and shipments) each, and is stopped with
    // Ctrl-C on the road during the first (three trips anchor it ~12 h back: room for the second run)
    const child = spawn(process.execPath, ['--import', 'tsx', 'devices/main.ts', '--provision', '--api', node.http, '--url', node.mqttUrl,
      '--email', 'admin@resume.test', '--password', PASSWORD, '--devices', '2', '--devices-file', file, '--routes', 'de-berlin-city-deliveries',
      '--speedup', '600', '--interval', '5', '--trips', '3', '--stagger', '0', '--seed', '4', '--progress', '1'], { cwd: fromRoot(), stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    // the pickup's dwell is 40 min ± 20 %: 8 s at 600× and the trucks are between stops
    const deadline = Date.now() + 30_000
    while (!stderr.includes('simulated time starts at') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 8000))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    await node.server.ingestion.drain()
  }, 60_000)
  afterAll(async () => { await node?.close() })

  it('cancels the interrupted shipments; the new run\'s readings go to its own shipments, from where the trucks were, none dropped', async () => {
    const first = await q<Shipment>('select id, reference, status, device_id from shipments order by reference')
    expect(first).toHaveLength(6)
    expect(first.filter((s) => ['in_transit', 'at_stop'].includes(s.status))).toHaveLength(2)
    // a run killed hard records nothing in the devices file: ReTrack's state is what is left
    const saved = parseDevicesFile(readFileSync(file, 'utf8'))
    expect(saved.every((d) => d.simulatedUntil !== undefined && d.lastPosition !== undefined && d.tenant === 'resume')).toBe(true)
    writeFileSync(file, JSON.stringify(saved.map(({ simulatedUntil: _u, lastPosition: _p, ...d }) => d)))
    const where = await lastFixes()
    const [lateBefore, jumpsBefore] = [await dropped('late'), await dropped('impossible_jump')]

    const logs: string[] = []
    const { summary, truth } = await again(logs)
    await node.server.ingestion.drain()
    expect(logs).toContain('cancelled 6 open shipment(s) of these devices left from an earlier run (2 under way, 4 assigned), so this run\'s readings go to its own shipments')
    expect(logs.some((l) => l.startsWith('these devices ran before, up to ') && l.includes('(ReTrack\'s last fix)'))).toBe(true)
    const all = await q<Shipment & { cancelled_at: Date | null }>('select id, reference, status, device_id, cancelled_at from shipments')
    const old = all.filter((s) => first.some((f) => f.id === s.id))
    expect(old.map((s) => s.status)).toEqual(Array(6).fill('cancelled'))
    const reasons = await q<{ payload: { reason: string } }>(`select payload from tracking_events where type = 'shipment_cancelled'`)
    expect(reasons).toHaveLength(6)
    expect(reasons[0]!.payload.reason).toMatch(/^simulator: a new run/)
    // nothing happened to the old shipments after they were cancelled; the new ones took the trip
    const afterCancel = await q(`select e.id from tracking_events e join shipments s on s.id = e.shipment_id
      where s.status = 'cancelled' and e.created_at > s.cancelled_at and e.source <> 'user'`)
    expect(afterCancel).toEqual([])
    const fresh = all.filter((s) => !old.includes(s))
    expect(fresh).toHaveLength(2)
    expect(fresh.every((s) => s.status !== 'assigned')).toBe(true)
    for (const s of fresh) {
      expect((await q(`select id from tracking_events where shipment_id = $1 and type = 'arrived'`, s.id)).length, s.reference).toBeGreaterThan(0)
    }
    // started after ReTrack's last fix of each device, where ReTrack last saw the truck: nothing late, no jump
    expect(summary.acked).toBeGreaterThan(50)
    expect(await dropped('late')).toBe(lateBefore)
    expect(await dropped('impossible_jump')).toBe(jumpsBefore)
    for (const d of truth.devices) {
      const was = where.get(d.deviceId)!
      expect(d.fixes.firstTs!).toBeGreaterThan(was.ts.getTime())
      const [firstFix] = await q<{ lat: number, lon: number }>('select lat, lon from positions where device_id = $1 and ts = $2', d.deviceId, new Date(d.fixes.firstTs!))
      expect(haversineM(firstFix!.lat, firstFix!.lon, was.lat, was.lon)).toBeLessThan(100)
    }
    // away from their first stop, they drove there first, and the trip went on from it
    expect(truth.devices.every((d) => 'startedFrom' in d)).toBe(true)
    expect(summary.notAdvancedOnServer).toEqual([])
  }, 60_000)

  it('refuses to take over open shipments it did not create, unless --cancel-open; warns when ReTrack drops every reading', async () => {
    const api = nodeApi(node)
    const devices = parseDevicesFile(readFileSync(file, 'utf8'))
    const foreign = await api<{ id: string }>('POST', '/api/v1/shipments', token, {
      reference: 'ORDER-1', deviceId: devices[0]!.deviceId, stops: [{ type: 'delivery', name: 'DC', lat: 52.5, lon: 13.4 }],
    })
    const open = async () => (await q<Shipment>(`select id, reference, status from shipments where status not in ('cancelled', 'delivered')`)).map((s) => s.reference).sort()
    const openBefore = await open()
    await expect(again([])).rejects.toThrow(/^1 open shipment\(s\) of these devices or their vehicles were not created by the simulator \(e\.g\. ORDER-1, assigned, device /)
    // refused before anything was cancelled or created
    expect(await open()).toEqual(openBefore)

    // every telemetry message malformed: dead-lettered, nothing reaches the devices' state
    const logs: string[] = []
    const { summary } = await again(logs, '--cancel-open', '--malformed-pct', '100')
    expect((await q<{ status: string }>('select status from shipments where id = $1', foreign.id))[0]!.status).toBe('cancelled')
    expect(summary.sent).toBeGreaterThan(50)
    expect(summary.notAdvancedOnServer).toHaveLength(2)
    expect(summary.notAdvancedOnServer![0]).toMatch(/^dev_\S+: last fix \S+ \(before the run: \S+\), this run sent \S+ … \S+$/)
    expect(logs.some((l) => l.startsWith('WARNING: ReTrack\'s last fix did not advance for 2 of the 2 devices that sent readings'))).toBe(true)
  }, 60_000)
})
