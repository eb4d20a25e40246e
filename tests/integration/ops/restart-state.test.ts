// A node on its embedded defaults (no Redis) keeps the asset state across a restart: what the
// processing core knew about each device is read back from DATA_DIR, so the API still shows where
// every device is, and a fix older than the last one applied is still recognised as late.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, deviceOptions, eventually, nodeApi, provision, startNode, type TestNode } from '../../helpers/server.js'

interface State { fixCount: number, version: number, lastFix: { ts: string, lat: number } | null }

describe('asset state across a restart, embedded defaults', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'retrack-restart-'))
  let node: TestNode | null = null
  afterAll(async () => { await node?.close(); rmSync(dir, { recursive: true, force: true }) })

  it('is read back from the data folder: position, counters, and the late-fix check', async () => {
    node = await startNode({ DATA_DIR: dir })
    const acme = await provision(node, 'acme', 1)
    const device = acme.devices[0]!
    const topic = `tenants/acme/devices/${device.id}/telemetry`
    const t0 = Date.now() - 120_000
    const client = await connect(node.mqttUrl, deviceOptions('acme', device))
    await client.publishAsync(topic, JSON.stringify([0, 1, 2].map((i) => ({ ts: t0 + i * 10_000, lat: 45 + i * 1e-3, lon: 4.8 }))), { qos: 1 })
    await client.endAsync()
    await node.server.ingestion.pipeline.idle()
    const state = (n: TestNode) => nodeApi(n)<State>('GET', `/api/v1/devices/${device.id}/state`, acme.operatorToken)
    const before = await state(node)
    expect(before).toMatchObject({ fixCount: 3, lastFix: { ts: new Date(t0 + 20_000).toISOString() } })

    await node.close()
    node = await startNode({ DATA_DIR: dir })
    expect(await state(node)).toEqual(before)
    const latest = await nodeApi(node)<{ items: Array<{ lastFix: { lat: number } | null }> }>('GET', '/api/v1/positions/latest', acme.operatorToken)
    expect(latest.items[0]!.lastFix).toMatchObject({ lat: 45.002 })

    // an older fix arriving after the restart is late, as it would have been before
    const again = await connect(node.mqttUrl, deviceOptions('acme', device))
    await again.publishAsync(topic, JSON.stringify({ ts: t0 + 5000, lat: 46, lon: 4.8 }), { qos: 1 })
    await again.endAsync()
    await node.server.ingestion.pipeline.idle()
    await eventually(async () => /reason="late"} 1/.test(await node!.server.metrics.registry.getSingleMetricAsString('retrack_readings_dropped_total')), 5000, 'the late drop')
    expect(await state(node)).toMatchObject({ fixCount: 3, lastFix: { lat: 45.002 } })
  })
})
