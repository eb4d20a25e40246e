// The simulator against a real ReTrack node through a TCP relay that cuts every connection twice
// mid-run (a network failure, a broker restart): readings whose PUBACK never came are counted as
// failed, go back into the device's buffer and reach ReTrack in the next batch (at-least-once).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { tcpRelay } from './relay.js'

describe('simulator when the broker connection is lost', () => {
  let node: TestNode
  let acme: Provisioned

  beforeAll(async () => {
    // acknowledgements wait for a group-committed write, so some are always in flight when the relay cuts
    node = await startNode({ INGEST_BATCH_WAIT_MS: 100 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 3)
  })
  afterAll(async () => { await node?.close() })

  it('accounts for every publish and loses no reading', async () => {
    const relay = await tcpRelay(node.server.mqttPort!)
    const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-lost-'))
    const file = join(dir, 'devices.json')
    writeFileSync(file, JSON.stringify(acme.devices.map((d) => ({ deviceId: d.id, secret: d.secret }))))
    try {
      const config = parseConfig(['--url', relay.url, '--tenant', 'acme', '--devices-file', file, '--routes', 'de-berlin-city-deliveries',
        '--speedup', '600', '--interval', '2', '--rate', '0', '--stagger', '0', '--duration', '6', '--progress', '0', '--seed', '3'], {})
      const logs: string[] = []
      const run = runSimulation(config, { log: (l) => logs.push(l) })
      for (const at of [2000, 3500]) {
        await new Promise((r) => setTimeout(r, at === 2000 ? 2000 : 1500))
        relay.cut()
      }
      const { summary, truth } = await run
      await node.server.ingestion.drain()
      expect(relay.stats.total).toBeGreaterThanOrEqual(9) // 3 devices, connected 3 times each
      // everything is QoS 1: each publish was either acknowledged or reported failed, none vanished
      expect(summary.sent).toBe(summary.acked + summary.failedPublishes)
      // the cuts are reported once (3 devices, cut twice), with the reason
      expect(logs.filter((l) => l.includes('connection lost'))).toEqual([expect.stringMatching(/^device \S+: connection lost: .+; reconnecting$/)])
      expect(summary.connectionProblems).toHaveLength(1)
      const requeued = truth.devices.reduce((n, d) => n + d.fixes.requeued, 0)
      expect(requeued).toBeGreaterThan(0)
      // and ReTrack has every reading each device generated
      const { rows } = await node.server.db.pool.query<{ device_id: string, n: number }>(
        'select device_id, count(distinct ts)::int n from positions group by device_id')
      const stored = new Map(rows.map((r) => [r.device_id, r.n]))
      for (const d of truth.devices) expect(stored.get(d.deviceId), d.deviceId).toBe(d.fixes.fixes)
    } finally {
      await relay.close()
    }
  }, 40_000)
})
