// `npm run simulate` as a real child process against a real ReTrack node, stopped with Ctrl-C: it
// says goodbye politely (offline status, DISCONNECT: no Last Will), prints its summary and exits by
// itself, i.e. with no timer or socket left behind. Stopped while provisioning, it keeps the secret
// of every device it created.
import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDevicesFile } from '../../../devices/credentials.js'
import { fromRoot } from '../../../src/paths.js'
import { PASSWORD } from '../../helpers/app.js'
import { connect, deviceOptions, eventually, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

describe('simulator stopped with SIGINT', () => {
  let node: TestNode
  let acme: Provisioned
  let watcher: MqttClient
  const status: string[] = []

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 3)
    watcher = await connect(node.mqttUrl, { clientId: 'acme:watch', username: 'acme', password: acme.operatorToken })
    watcher.on('message', (_t, payload) => status.push(payload.toString()))
    await watcher.subscribeAsync('tenants/acme/devices/+/status', { qos: 1 })
  })
  afterAll(async () => { await watcher?.endAsync(); await node?.close() })

  it('disconnects every device cleanly, prints the summary and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-sigint-'))
    const file = join(dir, 'devices.json')
    writeFileSync(file, JSON.stringify(acme.devices.map((d) => ({ deviceId: d.id, secret: d.secret }))))
    const child = spawn(process.execPath, ['--import', 'tsx', 'devices/main.ts', '--url', node.mqttUrl, '--tenant', 'acme', '--devices-file', file,
      '--speedup', '60', '--interval', '5', '--progress', '1', '--json'], { cwd: fromRoot(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString() })
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })))
    const deadline = Date.now() + 20_000
    while (!/connected 3\/3/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(stderr).toMatch(/connected 3\/3/)
    const stoppedAt = Date.now()
    child.kill('SIGINT')
    const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const { code, signal } = await exited
    clearTimeout(timeout)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(Date.now() - stoppedAt).toBeLessThan(5000)
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { connected: number, sent: number, acked: number, failedPublishes: number }
    expect(summary.connected).toBe(3)
    expect(summary.failedPublishes).toBe(0)
    expect(summary.acked).toBe(summary.sent)
    await new Promise((r) => setTimeout(r, 500))
    const offline = status.filter((s) => s.includes('offline'))
    // a polite goodbye per device, each with its time; a Last Will has none
    expect(offline).toHaveLength(3)
    expect(offline.every((s) => /"ts":\d+/.test(s))).toBe(true)
  }, 40_000)

  it('stopped while provisioning, saves the secret of every device it created and says how many', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-sigint-provision-'))
    const file = join(dir, 'devices.json')
    // an earlier run's file, readable by all: kept, not overwritten
    const earlier = JSON.stringify([{ deviceId: acme.devices[0]!.id, secret: acme.devices[0]!.secret }])
    writeFileSync(file, earlier)
    chmodSync(file, 0o644)
    const simDevices = async () => (await node.server.db.pool.query<{ id: string }>(`select id from devices where name like 'sim-%'`)).rows.map((r) => r.id)
    const child = spawn(process.execPath, ['--import', 'tsx', 'devices/main.ts', '--provision', '--api', node.http, '--url', node.mqttUrl,
      '--email', 'admin@acme.test', '--password', PASSWORD, '--devices', '5000', '--devices-file', file, '--progress', '0'],
    { cwd: fromRoot(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    await eventually(async () => (await simDevices()).length >= 20, 20_000, '20 devices provisioned')
    child.kill('SIGINT')
    const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const code = await exited
    clearTimeout(timeout)
    expect(code).toBe(130)
    const created = await simDevices()
    expect(created.length).toBeLessThan(5000)
    expect(stderr).toContain(`simulate: interrupted while provisioning: created ${created.length} of 5000 devices (and their vehicles); their credentials are saved in ${file}`)
    // every device that exists in ReTrack has its secret on disk, owner-only
    const saved = parseDevicesFile(readFileSync(file, 'utf8'))
    expect(saved.map((d) => d.deviceId).sort()).toEqual([...created].sort())
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(earlier)
    expect(stderr).toContain(`${file} existed: kept it as ${file}.bak`)
    // and the secrets are the right ones
    const last = saved.at(-1)!
    const client = await connect(node.mqttUrl, deviceOptions('acme', { id: last.deviceId, secret: last.secret }))
    await client.endAsync()
  }, 60_000)
})
