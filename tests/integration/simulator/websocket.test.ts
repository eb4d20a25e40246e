// The simulator over WebSocket against a real ReTrack node: the broker is at the HTTP port's /mqtt
// path. Without the path the node answers the upgrade with 404 and mqtt.js reports no error at all,
// so the simulator has to say what is wrong itself.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { postgresAvailable, provision, startNode, type TestNode } from '../../helpers/server.js'

describe('simulator over WebSocket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-ws-'))
  const file = join(dir, 'devices.json')
  let node: TestNode

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    const acme = await provision(node, 'acme', 2)
    writeFileSync(file, JSON.stringify(acme.devices.map((d) => ({ deviceId: d.id, secret: d.secret }))))
  })
  afterAll(async () => { await node?.close() })

  const run = (url: string, logs: string[]) => runSimulation(parseConfig(['--url', url, '--tenant', 'acme', '--devices-file', file,
    '--routes', 'de-berlin-city-deliveries', '--speedup', '600', '--duration', '2', '--progress', '0', '--seed', '2'], {}), { log: (l) => logs.push(l) })

  it('connects at ws://host:port/mqtt', async () => {
    const { summary } = await run(`ws://127.0.0.1:${node.server.httpPort}/mqtt`, [])
    expect(summary.everConnected).toBe(2)
    expect(summary.acked).toBeGreaterThan(0)
  }, 20_000)

  it('without the /mqtt path, says once that the connection closed before a CONNACK and where the broker is', async () => {
    const logs: string[] = []
    const { summary } = await run(`ws://127.0.0.1:${node.server.httpPort}`, logs)
    expect(summary.everConnected).toBe(0)
    const reports = logs.filter((l) => l.includes('before a CONNACK'))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(/^device \S+: connection closed before a CONNACK \(ReTrack serves MQTT over WebSocket at the \/mqtt path: e\.g\. --url ws:\/\/localhost:8080\/mqtt\); retrying with backoff$/)
    expect(summary.connectionProblems).toHaveLength(1)
    // every failed attempt is counted, though mqtt.js reported no error for any of them
    expect(summary.errors).toBeGreaterThanOrEqual(2)
  }, 20_000)

  it('mqtt:// at the HTTP port: says the server did not speak MQTT and where the MQTT listener is', async () => {
    const logs: string[] = []
    const { summary } = await run(`mqtt://127.0.0.1:${node.server.httpPort}`, logs)
    expect(summary.everConnected).toBe(0)
    expect(summary.errors).toBeGreaterThanOrEqual(2)
    const reports = logs.filter((l) => l.includes('did not speak MQTT'))
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatch(new RegExp(`^device \\S+: the server at mqtt://127\\.0\\.0\\.1:${node.server.httpPort} did not speak MQTT \\(.+\\): ` +
      'is that an HTTP port\\? ReTrack\'s MQTT listener is on its MQTT_PORT \\(default 1884: --url mqtt://<host>:1884\\); ' +
      'on its HTTP port MQTT is over WebSocket: --url ws://<host>:<HTTP port>/mqtt; retrying with backoff$'))
    expect(logs.some((l) => l.includes('Invalid header flag bits') && !l.includes('did not speak MQTT'))).toBe(false)
  }, 20_000)
})
