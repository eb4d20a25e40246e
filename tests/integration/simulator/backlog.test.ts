// The simulator's offline backlog against a real ReTrack node, through a TCP relay that holds the
// devices' reconnections for a known outage: a backlog bigger than the node's MQTT_MAX_BATCH
// reaches it in several batches (one array was refused whole, BATCH_TOO_LARGE), and what a run
// never got to send is reported instead of vanishing from the count.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../devices/config.js'
import { runSimulation } from '../../../devices/run.js'
import { postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { tcpRelay, type Relay } from './relay.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('simulator backlog after an outage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrack-sim-backlog-'))
  let node: TestNode
  let acme: Provisioned
  let relay: Relay

  beforeAll(async () => {
    node = await startNode({ MQTT_MAX_BATCH: 1000 }, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 2)
  })
  afterAll(async () => { await relay?.close(); await node?.close() })

  /** One device; 600 fixes per wall second (speedup 600, a fix every simulated second). */
  function run(deviceIndex: number, durationS: number) {
    const file = join(dir, `device-${deviceIndex}.json`)
    const d = acme.devices[deviceIndex]!
    writeFileSync(file, JSON.stringify([{ deviceId: d.id, secret: d.secret }]))
    const config = parseConfig(['--url', relay.url, '--tenant', 'acme', '--devices-file', file, '--routes', 'de-berlin-city-deliveries',
      '--speedup', '600', '--interval', '1', '--rate', '0', '--stagger', '0', '--duration', String(durationS), '--progress', '0', '--seed', '11'], {})
    return runSimulation(config, { log: () => undefined })
  }

  async function stored(deviceId: string): Promise<number> {
    await node.server.ingestion.drain()
    const { rows } = await node.server.db.pool.query<{ n: number }>('select count(distinct ts)::int n from positions where device_id = $1', [deviceId])
    return rows[0]!.n
  }

  it('sends a backlog of more than MQTT_MAX_BATCH readings in batches the node accepts, and the node stores all of them', async () => {
    relay = await tcpRelay(node.server.mqttPort!)
    const running = run(0, 7)
    await sleep(1500)
    relay.hold()
    relay.cut() // the device reconnects at once, and hangs until the outage is over
    await sleep(2500)
    relay.release()
    const { truth } = await running
    const fixes = truth.devices[0]!.fixes
    // the outage really built a backlog over the node's limit
    expect(fixes.batchedFixes).toBeGreaterThan(1000)
    expect(fixes.bufferOverflow).toBe(0)
    // the node refused nothing and has every reading the device produced (and sent)
    const { rows } = await node.server.db.pool.query<{ code: string, n: number }>('select code, count(*)::int n from dead_letters group by code')
    expect(rows).toEqual([])
    expect(await stored(acme.devices[0]!.id)).toBe(fixes.fixes - fixes.unsent)
    // as batches of at most --max-batch (500)
    expect(fixes.batches).toBeGreaterThanOrEqual(3)
    await relay.close()
  }, 30_000)

  it('reports the readings still buffered when the run ended as never sent', async () => {
    relay = await tcpRelay(node.server.mqttPort!)
    const running = run(1, 3)
    await sleep(1500)
    relay.hold()
    relay.cut() // the run ends during the outage
    const { summary, truth } = await running
    const device = truth.devices[0]!
    expect(summary.unsent.readings).toBeGreaterThan(300)
    expect(summary.unsent.readings).toBe(device.fixes.unsent)
    // every reading produced was either stored by the node or is reported as never sent
    expect(await stored(acme.devices[1]!.id)).toBe(device.fixes.fixes - device.fixes.unsent)
    await relay.close()
  }, 30_000)
})
