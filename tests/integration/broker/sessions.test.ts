// What the broker keeps between connections stays within the tenant: a persistent session's queued
// messages go to no one outside it (a session belongs to a client id, and any tenant's integration
// may pick any client id), and nothing a client publishes is kept as a retained message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, deviceOptions, postgresAvailable, provision, startNode, type Provisioned, type TestNode } from '../../helpers/server.js'

const collect = (client: MqttClient) => {
  const got: Array<{ topic: string, retain: boolean }> = []
  client.on('message', (topic, _payload, packet) => got.push({ topic, retain: packet.retain }))
  return got
}
const settle = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms))

describe('MQTT sessions and retained messages', () => {
  let node: TestNode
  let acme: Provisioned
  let beta: Provisioned
  const telemetry = (i: number) => `tenants/acme/devices/${acme.devices[i]!.id}/telemetry`
  const reading = () => JSON.stringify({ ts: Date.now() - 1000, lat: 45, lon: 7 })

  beforeAll(async () => {
    node = await startNode({}, { postgres: postgresAvailable() })
    acme = await provision(node, 'acme', 3)
    beta = await provision(node, 'beta', 1)
  })
  afterAll(async () => { await node?.close() })

  it('another tenant\'s integration reusing a client id gets none of the messages queued for it', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'int_watch', username: 'acme', password: acme.operatorToken, clean: false })
    await watcher.subscribeAsync('tenants/acme/devices/+/telemetry', { qos: 1 })
    await watcher.endAsync()
    const device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await device.publishAsync(telemetry(0), reading(), { qos: 1 })
    await device.endAsync()

    const intruder = await connect(node.mqttUrl, { clientId: 'int_watch', username: 'beta', password: beta.operatorToken, clean: false })
    const stolen = collect(intruder)
    await settle()
    await intruder.endAsync()
    expect(stolen).toEqual([])
    expect(await node.server.metrics.registry.getSingleMetricAsString('retrack_mqtt_acl_denials_total')).toMatch(/action="forward"} [1-9]/)
  })

  it('another tenant\'s integration cannot take over a live connection by its client id; the same tenant can', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'int_live_watch', username: 'acme', password: acme.operatorToken })
    const code = await connect(node.mqttUrl, { clientId: 'int_live_watch', username: 'beta', password: beta.operatorToken })
      .then((c) => { c.end(true); return 0 }, (err: { code?: number }) => err.code)
    expect(code).toBe(2)
    await settle(100)
    expect(watcher.connected).toBe(true)
    const replaced = new Promise<void>((resolve) => watcher.once('close', () => resolve()))
    const successor = await connect(node.mqttUrl, { clientId: 'int_live_watch', username: 'acme', password: acme.adminToken })
    await replaced
    await successor.endAsync()
    watcher.end(true)
  })

  it('the owner of a persistent session still gets what was queued for it', async () => {
    const watcher = await connect(node.mqttUrl, { clientId: 'int_owner', username: 'acme', password: acme.operatorToken, clean: false })
    await watcher.subscribeAsync('tenants/acme/devices/+/telemetry', { qos: 1 })
    await watcher.endAsync()
    const device = await connect(node.mqttUrl, deviceOptions('acme', acme.devices[0]!))
    await device.publishAsync(telemetry(0), reading(), { qos: 1 })
    await device.endAsync()

    const again = await connect(node.mqttUrl, { clientId: 'int_owner', username: 'acme', password: acme.operatorToken, clean: false })
    const got = collect(again)
    await settle()
    await again.endAsync()
    expect(got.map((m) => m.topic)).toEqual([telemetry(0)])
  })

  it.each([
    ['a device\'s retained reading', () => ({ client: deviceOptions('acme', acme.devices[1]!), topic: telemetry(1), payload: reading(), watch: 'tenants/acme/devices/+/telemetry' })],
    ['a device\'s retained status', () => ({ client: deviceOptions('acme', acme.devices[1]!), topic: `tenants/acme/devices/${acme.devices[1]!.id}/status`, payload: 'online', watch: 'tenants/acme/devices/+/status' })],
    ['an integration\'s retained command', () => ({ client: { clientId: 'int_cmd', username: 'acme', password: acme.operatorToken }, topic: `tenants/acme/devices/${acme.devices[2]!.id}/commands`, payload: JSON.stringify({ id: 'c1', type: 'unlock', ts: Date.now() }), watch: `tenants/acme/devices/${acme.devices[2]!.id}/commands` })],
  ])('%s is delivered live and not replayed to a later subscriber', async (_name, setup) => {
    const { client, topic, payload, watch } = setup()
    const live = await connect(node.mqttUrl, { clientId: 'int_live', username: 'acme', password: acme.operatorToken })
    await live.subscribeAsync(watch, { qos: 1 })
    const liveGot = collect(live)
    const publisher = await connect(node.mqttUrl, client)
    await publisher.publishAsync(topic, payload, { qos: 1, retain: true })
    await publisher.endAsync()
    await settle(200)
    await live.endAsync()
    expect(liveGot.map((m) => m.topic)).toEqual([topic])

    const subscriber = topic.endsWith('/commands')
      ? await connect(node.mqttUrl, deviceOptions('acme', acme.devices[2]!))
      : await connect(node.mqttUrl, { clientId: 'int_later', username: 'acme', password: acme.operatorToken })
    const later = collect(subscriber)
    await subscriber.subscribeAsync(watch, { qos: 1 })
    await settle()
    await subscriber.endAsync()
    expect(later).toEqual([])
  })
})
