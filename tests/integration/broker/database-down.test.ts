// When the database fails during CONNECT, the device is told "server unavailable" (3), which it
// retries, not "not authorized" (5) or "bad credentials" (4), which many devices take as final.
// The failure is real: the devices table is renamed away for the duration, nothing is mocked.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ErrorWithReasonCode } from 'mqtt'
import { connect, deviceOptions, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'
import { mosquittoPub } from '../../helpers/mosquitto-clients.js'

describe('MQTT CONNECT while the database fails', () => {
  let node: TestNode
  let acme: Provisioned

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 3)
  })
  afterAll(async () => { await node?.close() })

  async function withoutDevicesTable<T>(run: () => Promise<T>): Promise<T> {
    await node.server.db.pool.query('alter table devices rename to devices_away')
    try { return await run() } finally { await node.server.db.pool.query('alter table devices_away rename to devices') }
  }

  it('mqtt.js: CONNACK 3, counted as internal_error; the same device connects once the database is back', async () => {
    const device = acme.devices[0]!
    const code = await withoutDevicesTable(() => connect(node.mqttUrl, deviceOptions('acme', device))
      .then((c) => { c.end(true); return 0 }, (err: ErrorWithReasonCode) => err.code))
    expect(code).toBe(3)
    expect(await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_auth_failures_total')).toMatch(/reason="internal_error"} [1-9]/)
    await (await connect(node.mqttUrl, deviceOptions('acme', device))).endAsync()
  })

  it.runIf(inject('services').mosquittoClients)('mosquitto_pub: "broker unavailable"', async () => {
    const device = acme.devices[1]!
    const run = await withoutDevicesTable(() => mosquittoPub(node.server.mqttPort!, {
      id: device.id, user: 'acme', pass: device.secret, topic: `tenants/acme/devices/${device.id}/telemetry`, message: '{}',
    }))
    expect(run.code).not.toBe(0)
    expect(run.stderr.toLowerCase()).toContain('unavailable')
  })
})
