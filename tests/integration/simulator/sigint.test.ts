// `npm run simulate` as a real child process against a real ReTrack node, stopped with Ctrl-C: it
// says goodbye politely (offline status, DISCONNECT: no Last Will), prints its summary and exits by
// itself, i.e. with no timer or socket left behind.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromRoot } from '../../../src/paths.js'
import { connect, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

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
})
