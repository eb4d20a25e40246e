// The simulator against a ReTrack broker that refuses its credentials: each device keeps ONE
// connection attempt at a time and backs off 1 s, 2 s, 4 s … between them (docs/simulator.md), and
// the run says why nothing connects. A TCP relay in front of the real broker counts the sockets.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { nodeApi, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { tcpRelay } from './relay.js'

describe('simulator against a broker that refuses its credentials', () => {
  let node: TestNode
  let acme: Provisioned
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-refused-'))

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 1)
  })
  afterAll(async () => { await node?.close() })

  it('keeps one attempt per device at a time and backs off exponentially', async () => {
    const relay = await tcpRelay(node.server.mqttPort!)
    const file = join(dir, 'wrong.json')
    writeFileSync(file, JSON.stringify([{ deviceId: acme.devices[0]!.id, secret: 'not-the-secret' }]))
    const logs: string[] = []
    try {
      const config = parseConfig(['--url', relay.url, '--tenant', 'acme', '--devices-file', file, '--duration', '7', '--progress', '0', '--seed', '1'], {})
      const { summary } = await runSimulation(config, { log: (l) => logs.push(l) })
      // attempts at ~0 s, then after 1–2 s, then after 2–4 s more: the next one is due after 7 s at the earliest
      expect(relay.stats.maxOpen).toBe(1)
      expect(relay.stats.total).toBeLessThanOrEqual(3)
      expect(summary.refused).toBe(relay.stats.total)
      // and the run says why, once, instead of retrying in silence
      expect(logs.filter((l) => l.includes('Bad username or password'))).toEqual([
        `device ${acme.devices[0]!.id}: Connection refused: Bad username or password (check --tenant and the devices file); retrying with backoff`,
      ])
    } finally {
      await relay.close()
    }
  }, 30_000)

  it('connects a device once when the broker lets it in after refusing it', async () => {
    const relay = await tcpRelay(node.server.mqttPort!)
    const device = acme.devices[0]!
    const api = nodeApi(node)
    await api('POST', `/api/v1/devices/${device.id}/disable`, acme.adminToken)
    const file = join(dir, 'right.json')
    writeFileSync(file, JSON.stringify([{ deviceId: device.id, secret: device.secret }]))
    const sessions: string[] = []
    const onClient = (client: { id: string }) => sessions.push(client.id)
    node.server.broker!.aedes.on('client', onClient)
    try {
      const config = parseConfig(['--url', relay.url, '--tenant', 'acme', '--devices-file', file, '--duration', '9', '--progress', '0', '--seed', '1'], {})
      const run = runSimulation(config, { log: () => undefined })
      await new Promise((r) => setTimeout(r, 2500)) // refused at ~0 s and ~1–2 s
      await api('POST', `/api/v1/devices/${device.id}/enable`, acme.adminToken)
      const { summary } = await run
      expect(summary.refused).toBeGreaterThan(0)
      // one session for the one device: no second attempt racing the first and taking its client id over
      expect(sessions).toEqual([device.id])
      expect(summary.connects).toBe(1)
      expect(summary.connected).toBe(1)
      expect(summary.peakConnected).toBe(1)
    } finally {
      node.server.broker!.aedes.off('client', onClient)
      await relay.close()
    }
  }, 30_000)
})
